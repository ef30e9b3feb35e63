"""Authorization: the Casbin policy, field categories, grants and the field guard.

Imports neither schema nor resolvers."""
