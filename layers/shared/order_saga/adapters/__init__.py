"""Ports and their adapters: event store, payment gateway, catalog."""
