"""The console backend of `make serve`: what the saga did, as the AWS consoles would show it.

views.py              the console's JSON views (state machine, executions, samples)
routes.py             the console's page, files and views over HTTP (/console)
asl_graph.py          the state machine as a graph, and as Mermaid
execution_history.py  one execution's history as steps, colours and edges
inspection.py         what the stream consumers did (notifications, bus, failures)
local_pages.py        those views over HTTP (/local/...)
"""
