"""The suite: one test module per module of the app, the role matrix as data (matrix.py) expanded
into a grid (grid.py), factories and shared assertions (factories.py, assertions.py), and the
fixtures of conftest.py (a migrated database of the run's own: SQLite, or ESTART_TEST_DATABASE_URL)."""
