"""Query and mutation logic, data loaders, validation."""
