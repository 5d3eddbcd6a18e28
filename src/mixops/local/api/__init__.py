"""HTTP routes of the local backend, one module per resource kind."""
