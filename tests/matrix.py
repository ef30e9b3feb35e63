"""The expected role matrix, written by hand from the eStart data standards (section 4) and
../shared/DESIGN.md ("Data categories and the default role matrix", "Row scope").

It is deliberately NOT derived from authz/policy.csv: the role-matrix tests compare the
service against this table, so a mistake in either one is caught.

Reaches:
  EVERYWHERE  the right holds for every family, whatever its settings
  HELD        only for families whose scope (registered setting + unrevoked affiliations)
              includes a setting where the user holds the role
  NONE        never
"""

EVERYWHERE = "everywhere"
HELD = "held"
NONE = "none"

PRIMARY, SECONDARY, CONFIDENTIAL, CP_PLAN = "PRIMARY", "SECONDARY", "CONFIDENTIAL", "CP_PLAN"
CATEGORIES = (PRIMARY, SECONDARY, CONFIDENTIAL, CP_PLAN)
ACTIONS = ("read", "write")

ALL, NO = EVERYWHERE, NONE  # short names for the table below


def row(*cells: tuple[str, str]) -> dict[str, tuple[str, str]]:
    """One role's (read, write) reach per category, in CATEGORIES order."""
    assert len(cells) == len(CATEGORIES)
    return dict(zip(CATEGORIES, cells, strict=True))


# Primary data is shared across all settings for every staff role (standards 13, DESIGN "Row
# scope"): its read reach is ALL even where the standards say only "full access".
# fmt: off
MATRIX: dict[str, dict[str, tuple[str, str]]] = {
    #                             PRIMARY        SECONDARY      CONFIDENTIAL   CP_PLAN
    #                             read  write    read  write    read  write    read  write
    # "Read Only Access to all areas, Primary and Secondary data": all settings; not confidential or CP.
    "SENIOR_MANAGEMENT":     row((ALL,  NO),    (ALL,  NO),    (NO,   NO),    (NO,   NO)),
    # "Full access to primary data. Read Only Access to Secondary data and No Access to confidential".
    # Least privilege: no child-protection list (the standards name it for other roles only).
    "HEAD_OF_CENTRE":        row((ALL,  HELD),  (HELD, NO),    (NO,   NO),    (NO,   NO)),
    # "Full access to all Primary, Secondary data ... confidential notes and the list of children".
    "MANAGER":               row((ALL,  HELD),  (HELD, HELD),  (HELD, HELD),  (HELD, HELD)),
    # "Full access to Primary and Secondary ... Read Only access for confidential notes ... CP list".
    "SENIOR_ADMINISTRATOR":  row((ALL,  HELD),  (HELD, HELD),  (HELD, NO),    (HELD, NO)),
    # "Full access to Primary and Secondary ... Full access to confidential notes area and the list".
    "PARENT_SUPPORT_WORKER": row((ALL,  HELD),  (HELD, HELD),  (HELD, HELD),  (HELD, HELD)),
    # "Full access to Primary and Secondary data ... No Access to confidential notes and the list".
    "ADMIN_OFFICER":         row((ALL,  HELD),  (HELD, HELD),  (NO,   NO),    (NO,   NO)),
    # The eStart Administrator: users, drop-down lists, the audit log. No family data at all.
    "SYSTEM_ADMINISTRATOR":  row((NO,   NO),    (NO,   NO),    (NO,   NO),    (NO,   NO)),
    # Service accounts: the ContactPoint feed subset and aggregate reports only; no family records.
    "CONTACTPOINT_FEED":     row((NO,   NO),    (NO,   NO),    (NO,   NO),    (NO,   NO)),
    "LA_REPORTING":          row((NO,   NO),    (NO,   NO),    (NO,   NO),    (NO,   NO)),
}
# fmt: on

ROLES = tuple(MATRIX)

# The four families of the scope grid (tests/conftest.py World) and whether their scope includes
# setting A, the setting where every staff user of the world holds their role.
SCOPES: dict[str, bool] = {
    "own": True,  # registered with A
    "other": False,  # registered with B only
    "affiliated": True,  # registered with B, affiliated to A with consent
    "revoked": False,  # registered with B, its affiliation to A revoked
}


def reach(role: str, category: str, action: str) -> str:
    return MATRIX[role][category][ACTIONS.index(action)]


def allows(role: str, category: str, action: str, scope: str) -> bool:
    """Whether `role`, held in setting A, may `action` `category` data of the `scope` family."""
    where = reach(role, category, action)
    return where == EVERYWHERE or (where == HELD and SCOPES[scope])


def allows_in_setting(role: str, category: str, action: str, setting: str) -> bool:
    """Whether `role`, held in setting A, has the right within `setting` (e.g. the CP list)."""
    where = reach(role, category, action)
    return where == EVERYWHERE or (where == HELD and setting == "A")


def reads_family_data(role: str) -> bool:
    """Roles with no read right on any family category get nothing from family(id)."""
    return any(reach(role, category, "read") != NONE for category in CATEGORIES)
