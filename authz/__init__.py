"""Authorization: who may read and write what, decided here and nowhere else.

categories.py holds the vocabulary (roles, data categories, actions, INHERITED); policy.csv and
model.conf are the Casbin policy (the role matrix as data) and enforcer.py consults it, memoized;
grants.py folds a user's role assignments through the policy into Grants (which category and
action hold everywhere or in which settings) and a family's Access; scope.py is row scope and
reach: a family's scope, the SQL predicates selecting the families a caller lists, the rights
checks (require, require_anywhere, acting_setting) and load_for_write, the one sequence every
mutation on a family record goes through; guard.py installs the field guard that answers a
field the caller may not read with null and a FORBIDDEN denial. Imports neither schema nor
resolvers."""
