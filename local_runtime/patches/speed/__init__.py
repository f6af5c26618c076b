"""Speed shortcuts: none changes an answer; each removes a cost that grows with load or
with history (see each module).

    dynamodb_writes.py   transactions, UpdateExpressions, plain SETs, item sizes
    dynamodb_reads.py    a Query's partition, answers as JSON, answers as plain data
    stepfunctions.py     one Lambda client, the ASL parsed once, JSONPaths parsed once
    moto_core.py         method names looked up once, request ids in one draw
    sdk_session.py       unsigned clients with a fixed User-Agent (configuration)
    sdk_json.py          DynamoDB answers parsed as plain JSON by the handlers' SDK
"""
