"""Order saga: the shared package (domain, adapters, service layer) every Lambda uses."""
