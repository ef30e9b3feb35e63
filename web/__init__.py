"""HTTP concerns in front of GraphQL: the request guard (methods, content types, body size,
batches), security headers and per-minute request limits. Imported by server.py only."""
