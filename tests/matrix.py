"""The expected role matrix, written by hand from the eStart data standards (section 4) and
../shared/DESIGN.md ("Data categories and the default role matrix", "Row scope").

It is deliberately NOT derived from authz/policy.csv: the role-matrix tests
(tests/test_role_matrix.py for the family record, tests/test_standards_matrix.py for the
fields, forms, reports and drop-down lists the data standards add) compare the service against
this table, so a mistake in either one is caught. tests/test_person_matrix.py (the whole
record), tests/test_activity_matrix.py (activities, registers, contacts) and
tests/test_account_matrix.py (reports, user requests, the administrator's views) read it too.
CONTACTPOINT (the feed account's alone) is tested in tests/test_contactpoint.py.

Reaches:
  EVERYWHERE  the right holds for every family (every setting), whatever its settings
  HELD        only for families whose scope (registered setting + unrevoked affiliations)
              includes a setting where the user holds the role (only in those settings)
  NONE        never
"""

from typing import Any

from tests.assertions import Path

EVERYWHERE = "everywhere"
HELD = "held"
NONE = "none"

PRIMARY, SECONDARY, CONFIDENTIAL, CP_PLAN = "PRIMARY", "SECONDARY", "CONFIDENTIAL", "CP_PLAN"
REPORTING, LOOKUPS_ADMIN = "REPORTING", "LOOKUPS_ADMIN"
ACTIVITY, USER_REQUEST, USER_ADMIN, AUDIT = "ACTIVITY", "USER_REQUEST", "USER_ADMIN", "AUDIT"
# The categories of data held on a family record, whose reach is the family's row scope.
FAMILY_CATEGORIES = (PRIMARY, SECONDARY, CONFIDENTIAL, CP_PLAN)
CATEGORIES = (*FAMILY_CATEGORIES, REPORTING, LOOKUPS_ADMIN)
MORE_CATEGORIES = (ACTIVITY, USER_REQUEST, USER_ADMIN, AUDIT)
ACTIONS = ("read", "write")

ALL, NO = EVERYWHERE, NONE  # short names for the table below


def row(*cells: tuple[str, str]) -> dict[str, tuple[str, str]]:
    """One role's (read, write) reach per category, in CATEGORIES order."""
    assert len(cells) == len(CATEGORIES)
    return dict(zip(CATEGORIES, cells, strict=True))


def more(*cells: tuple[str, str]) -> dict[str, tuple[str, str]]:
    """One role's (read, write) reach per category, in MORE_CATEGORIES order."""
    assert len(cells) == len(MORE_CATEGORIES)
    return dict(zip(MORE_CATEGORIES, cells, strict=True))


# Primary data is shared across all settings for every staff role (standards 13, DESIGN "Row
# scope"): its read reach is ALL even where the standards say only "full access". Reports are
# read in the settings where the role is held, authority-wide by senior management and the
# reporting account (13); drop-down lists are kept by the eStart Administrator alone (15).
# fmt: off
MATRIX: dict[str, dict[str, tuple[str, str]]] = {
    #                        PRIMARY       SECONDARY     CONFIDENTIAL  CP_PLAN       REPORTING     LOOKUPS_ADMIN
    #                        read  write   read  write   read  write   read  write   read  write   read  write
    # "Read Only Access to all areas, Primary and Secondary data": all settings; not confidential or CP.
    "SENIOR_MANAGEMENT":     row((ALL, NO),    (ALL, NO),    (NO, NO),     (NO, NO),     (ALL, NO),    (NO, NO)),
    # "Full access to primary data. Read Only Access to Secondary data and No Access to confidential".
    # Least privilege: no child-protection list (the standards name it for other roles only).
    "HEAD_OF_CENTRE":        row((ALL, HELD),  (HELD, NO),   (NO, NO),     (NO, NO),     (HELD, NO),   (NO, NO)),
    # "Full access to all Primary, Secondary data ... confidential notes and the list of children".
    "MANAGER":               row((ALL, HELD),  (HELD, HELD), (HELD, HELD), (HELD, HELD), (HELD, NO),   (NO, NO)),
    # "Full access to Primary and Secondary ... Read Only access for confidential notes ... CP list".
    "SENIOR_ADMINISTRATOR":  row((ALL, HELD),  (HELD, HELD), (HELD, NO),   (HELD, NO),   (HELD, NO),   (NO, NO)),
    # "Full access to Primary and Secondary ... Full access to confidential notes area and the list".
    "PARENT_SUPPORT_WORKER": row((ALL, HELD),  (HELD, HELD), (HELD, HELD), (HELD, HELD), (HELD, NO),   (NO, NO)),
    # "Full access to Primary and Secondary data ... No Access to confidential notes and the list".
    "ADMIN_OFFICER":         row((ALL, HELD),  (HELD, HELD), (NO, NO),     (NO, NO),     (HELD, NO),   (NO, NO)),
    # The eStart Administrator: users, drop-down lists, the audit log. No family data at all.
    "SYSTEM_ADMINISTRATOR":  row((NO, NO),     (NO, NO),     (NO, NO),     (NO, NO),     (NO, NO),     (ALL, ALL)),
    # Service accounts: the ContactPoint feed subset and aggregate reports only; no family records.
    "CONTACTPOINT_FEED":     row((NO, NO),     (NO, NO),     (NO, NO),     (NO, NO),     (NO, NO),     (NO, NO)),
    "LA_REPORTING":          row((NO, NO),     (NO, NO),     (NO, NO),     (NO, NO),     (ALL, NO),    (NO, NO)),
}

# Activity definitions are owned by a setting and shared across all settings (9: "all user
# types will have access to activity data"; DESIGN: staff only, and "R" everywhere for head of
# centre and senior management), written in the owning setting by those with "full access to
# Activity data" (4). A User Request, Termination or password-reset form is signed by the
# setting manager (4), for their setting (API.md): USER_REQUEST write; its read is the requests
# one filed, which needs no right of its own. Senior management signs for roles in all
# settings: the policy's LEAST-PRIVILEGE reading (issue 15 leaves who holds USER_REQUEST to the
# policy). The eStart Administrator keeps users (USER_ADMIN) and reads the audit log (AUDIT).
MORE: dict[str, dict[str, tuple[str, str]]] = {
    #                        ACTIVITY      USER_REQUEST  USER_ADMIN    AUDIT
    #                        read  write   read  write   read  write   read  write
    "SENIOR_MANAGEMENT":     more((ALL, NO),    (NO, ALL),    (NO, NO),     (NO, NO)),
    "HEAD_OF_CENTRE":        more((ALL, NO),    (NO, NO),     (NO, NO),     (NO, NO)),
    "MANAGER":               more((ALL, HELD),  (NO, HELD),   (NO, NO),     (NO, NO)),
    "SENIOR_ADMINISTRATOR":  more((ALL, HELD),  (NO, NO),     (NO, NO),     (NO, NO)),
    "PARENT_SUPPORT_WORKER": more((ALL, HELD),  (NO, NO),     (NO, NO),     (NO, NO)),
    "ADMIN_OFFICER":         more((ALL, HELD),  (NO, NO),     (NO, NO),     (NO, NO)),
    "SYSTEM_ADMINISTRATOR":  more((NO, NO),     (NO, NO),     (ALL, ALL),   (ALL, NO)),
    "CONTACTPOINT_FEED":     more((NO, NO),     (NO, NO),     (NO, NO),     (NO, NO)),
    "LA_REPORTING":          more((NO, NO),     (NO, NO),     (NO, NO),     (NO, NO)),
}
# fmt: on
assert MORE.keys() == MATRIX.keys()
for _role, _cells in MORE.items():
    MATRIX[_role].update(_cells)

ROLES = tuple(MATRIX)

# What an item received carries decides who logs it (standards 5): an initial contact form and
# notice of a change of primary data carry primary data (5.1, 5.3); referrals, secondary
# changes, registers and home-visit sheets carry secondary data (5.2, 5.4, 5.5).
FORM_CATEGORY = {
    "INITIAL_CONTACT": PRIMARY,
    "PRIMARY_CHANGE": PRIMARY,
    "REFERRAL": SECONDARY,
    "SECONDARY_CHANGE": SECONDARY,
    "REGISTER": SECONDARY,
    "HOME_VISIT": SECONDARY,
}

# The fields of each family category, as paths from a family: a person's fields below its list
# ("carers.ethnicity"), a list's below its field ("notes.text"). The field a denial nulls is the
# first one below the family or the person (tests/test_role_matrix.py, DESIGN.md categories).
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    # name, address, date of birth (5.3)
    PRIMARY: ("address.postcode", "carers.firstName", "carers.dateOfBirth", "children.lastName"),
    # ethnicity, language, general note, notes history, consent to share (5.4, 6)
    SECONDARY: (
        "generalNote", "notes.text", "affiliations.id", "affiliations.revokedAt",
        "carers.ethnicity", "carers.notes.text", "children.language", "children.notes.text",
    ),
    # the confidential notes history (7)
    CONFIDENTIAL: ("confidentialNotes.text", "carers.confidentialNotes.text", "children.confidentialNotes.text"),
    # child protection plan status (4)
    CP_PLAN: ("children.childProtectionPlan.category",),
}  # fmt: skip
# The fields the data standards add (tests/test_standards_matrix.py): no further contact and a
# provisional name are primary data (5.3); warnings, hard-to-reach groups, custom indicators,
# people's general notes and the forms received with their referral details are secondary data
# (5.2, 5.4, 10, 11); past plans are child protection data (4).
STANDARDS_FIELDS: dict[str, tuple[str, ...]] = {
    PRIMARY: ("noFurtherContact", "children.provisionalName"),
    SECONDARY: (
        "warnings", "hardToReachGroups", "indicators", "forms.kind", "forms.referralReason",
        "carers.generalNote", "carers.warnings", "carers.hardToReachGroups", "carers.indicators",
        "children.generalNote", "children.warnings", "children.hardToReachGroups", "children.indicators",
    ),
    CP_PLAN: ("children.childProtectionPlans.startDate", "children.childProtectionPlans.endDate",
              "children.childProtectionPlans.category"),
}  # fmt: skip
PEOPLE = ("carers", "children")


def selection(*paths: str) -> str:
    """The GraphQL selection that reads `paths` ("carers.notes.text" -> carers { notes { text } })."""
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for name in path.split("."):
            node = node.setdefault(name, {})

    def render(node: dict[str, Any]) -> str:
        return " ".join(f"{name} {{ {render(below)} }}" if below else name for name, below in node.items())

    return render(tree)


# The fields of a family answer a denial must leave intact beside the denied ones.
SIBLINGS = ("id", "address.postcode", "carers.id", "carers.firstName", "children.id", "children.firstName")


def family_query(*paths: str) -> str:
    """A query of family($id) reading `paths` and the SIBLINGS."""
    return f"query($id: ID!) {{ family(id: $id) {{ {selection(*SIBLINGS, *paths)} }} }}"


def guarded_paths(paths: tuple[str, ...]) -> list[Path]:
    """Where a denial of `paths` shows in a family answer with one carer and one child: the
    family's field, or the person's field below ("children", 0)."""
    found: list[Path] = []
    for path in paths:
        names = path.split(".")
        guarded: Path = (names[0], 0, names[1]) if names[0] in PEOPLE else (names[0],)
        if guarded not in found:
            found.append(guarded)
    return found


# The four families of the scope grid (tests/grid.py) and whether their scope includes setting
# A, the setting where every staff user of the grid holds their role.
SCOPES: dict[str, bool] = {
    "own": True,  # registered with A
    "other": False,  # registered with B only
    "affiliated": True,  # registered with B, affiliated to A with consent
    "revoked": False,  # registered with B, its affiliation to A revoked
}
# The grid's families in each setting's scope: what a list of the setting's families holds.
SETTING_SCOPES = {"A": {"own", "affiliated"}, "B": {"other", "affiliated", "revoked"}}


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
    return any(reach(role, category, "read") != NONE for category in FAMILY_CATEGORIES)


def refusal_categories(role: str, category: str) -> set[str]:
    """The categories a refused write on family data may name: its own; a caller with no right
    to family data at all may instead be told it lacks PRIMARY (it may not even look the record up)."""
    return {category} if reads_family_data(role) else {category, PRIMARY}


def verb(allowed: bool) -> str:
    """The word of a case's id: "MANAGER-can-read-…", "HEAD_OF_CENTRE-cannot-write-…"."""
    return "can" if allowed else "cannot"
