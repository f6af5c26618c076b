"""What the Lambda functions in functions/ are made of."""
