"""Query and mutation logic: reading records through the request's loaders, validating and
writing changes, audit events and record history. Resolvers take and return plain records;
they never decide a field's visibility (the guard does) and never restate a category."""
