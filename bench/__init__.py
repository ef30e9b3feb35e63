"""Benchmarks: the service against the same schema with authorization off and a hand-written
floor (see bench/README.md). Nothing here is imported by the service."""
