"""HTTP around GraphQL: the request guard (methods, content types, body size, batches), security
headers and per-minute request limits (transport.py, per_minute.py); the JSON envelope of every
failure (faults.py); /readyz (health.py); the request log and metrics (observe.py); report
exports (export.py); GraphiQL's page and pinned assets (graphiql.py, static/); slow-client
deadlines (server_protocol.py). server.py mounts it; schema/ reads only its per-minute counter
and request facts."""
