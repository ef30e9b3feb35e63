"""Query and mutation logic: reading records through the request's loaders (loaders.py),
validating and writing changes, audit events and record history. Resolvers take typed inputs
(inputs.py) and return records (records.py and the `…Record` classes beside their resolvers),
never ORM rows the schema would read; they never decide a field's visibility (the guard does)
and never restate a category (authz/fields.py has the declared ones)."""
