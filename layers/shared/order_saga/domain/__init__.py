"""The pure domain: aggregates, value objects, events and commands. No I/O in here."""
