"""The AWS services the local runtime plays, each as AWS behaves where the saga relies on it.

template.py        template.yaml read and resolved to local names
tables.py          its DynamoDB tables on moto
messaging.py       its queues, topics and event buses on moto, and what reached them
lambda_service.py  the Lambda Invoke API, answered by the real handlers in-process
faults.py          faults the Lambda service can put around a handler
stream_mappings.py the DynamoDB event source mappings the template declares
stream_driver.py   those mappings played against moto's streams
api_gateway.py     the API-Gateway-like HTTP server in front of the Api function
executions.py      the saga's executions as Step Functions reports them (Standard or Express)
express.py         Express workflows: their CloudWatch Logs records, states run twice
metrics_tap.py     the handlers' EMF metrics, read as CloudWatch would
store_watch.py     which event store streams changed, from the table's own stream
clock.py           the time scale (shorter waits on purpose)
"""
