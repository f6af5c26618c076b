"""Speed shortcuts: none changes an answer; each removes a cost that grows with load or
with history (see each module). They patch moto, the server side, only: the handlers'
SDK serialises, sends and parses every request with its own code, as on AWS
(sdk_session.py configures it through botocore's public client config).

    dynamodb_writes.py   transactions, UpdateExpressions, plain SETs, item sizes
    dynamodb_reads.py    a Query's partition, answers as JSON, answers as plain data
    stepfunctions.py     one Lambda client, the ASL parsed once, JSONPaths parsed once
    events.py            an EventBridge target's input paths parsed once
    moto_core.py         method names looked up once, request ids in one draw
    sdk_session.py       unsigned clients with a fixed User-Agent (configuration)
"""
