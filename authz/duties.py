"""Separation of duties over user accounts (standards 4, 15, 16; the hardening issue): no
administrator can, alone, give anyone (themselves included) read access to confidential notes
or child protection plans, nor any right in every setting, nor the administrator's own rights.

- A request is signed by someone holding USER_REQUEST where its roles are held (a setting
  manager) and approved by an administrator (USER_ADMIN) who is neither the requester nor the
  user it is about.
- A request giving a role in all settings (or one whose rights reach every setting wherever it is
  held: senior management, LA reporting, the feed) or an administrative right needs a second, different
  administrator's approval (AWAITING_SECOND_APPROVAL after the first).
- The direct path (createUser, one administrator) gives only roles that are none of these:
  no confidential notes or CP plans, no right in all settings, no administrative right.

What counts is read from the policy (the grants a role folds to), never from role names.
"""

from collections.abc import Iterable

from authz.categories import SHARED_CATEGORIES, Action, Category
from authz.grants import Assignment, GrantBook
from errors import Forbidden, ServiceError

SEPARATION_OF_DUTIES = "SEPARATION_OF_DUTIES"


class SeparationOfDuties(Forbidden):
    """FORBIDDEN with `extensions.reason` SEPARATION_OF_DUTIES."""

    def __init__(self, message: str) -> None:
        ServiceError.__init__(self, message, reason=SEPARATION_OF_DUTIES)


# Family data one administrator may never hand out alone.
GUARDED_READS = (Category.CONFIDENTIAL, Category.CP_PLAN)
# Rights over users, lists and the audit log: whoever holds them could approve requests.
ADMINISTRATIVE = (Category.USER_ADMIN, Category.AUDIT, Category.LOOKUPS_ADMIN)


def gives_guarded_reads(book: GrantBook, assignments: Iterable[Assignment]) -> bool:
    grants = book.grants_for(assignments)
    return any(grants.allows_anywhere(category, Action.READ) for category in GUARDED_READS)


def reaches_every_setting(book: GrantBook, assignments: Iterable[Assignment]) -> bool:
    """A right that holds in every setting wherever the role is held (policy reach "all"),
    beyond the reads every staff role has everywhere (primary data, activities): senior
    management, LA reporting, the ContactPoint feed, even when held "in" one setting."""
    grants = book.grants_for(assignments)
    return any(category not in SHARED_CATEGORIES or action is not Action.READ for category, action in grants.everywhere)


def is_wide(book: GrantBook, assignments: Iterable[Assignment]) -> bool:
    """A role held in all settings, a right reaching every setting, or an administrative right."""
    assignments = list(assignments)
    if any(setting is None for _, setting in assignments) or reaches_every_setting(book, assignments):
        return True
    grants = book.grants_for(assignments)
    return any(grants.allows_anywhere(category, action) for category in ADMINISTRATIVE for action in Action)


def approvals_needed(book: GrantBook, assignments: Iterable[Assignment]) -> int:
    """Administrators who must approve a request giving `assignments`: two for wide ones."""
    return 2 if is_wide(book, assignments) else 1


def direct_refusal(book: GrantBook, assignments: Iterable[Assignment]) -> str | None:
    """Why one administrator may not give `assignments` directly (createUser), or None."""
    assignments = list(assignments)
    if is_wide(book, assignments):
        return "a role in all settings or an administrative right needs two administrators"
    if gives_guarded_reads(book, assignments):
        return "a role reading confidential notes or child protection plans needs a setting manager's request"
    return None
