"""Authentication: who the caller is. Password hashing, login with throttling and its audit,
opaque session tokens, the client's address, the request's `Principal`, and the account
mutations (login, logout, passwords, login locks).

What the caller may *do* is authz/'s question, not this package's."""
