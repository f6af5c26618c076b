"""Use cases: load aggregates from the store, run one command, append what it recorded."""
