"""The demo data of README (`estart seed-demo`). Kept out of resolvers/: it knows a published
password, so it refuses to run against a database that holds accounts of a real deployment."""
