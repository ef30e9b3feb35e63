"""The workloads: their GraphQL documents, and each one's three calls (floor, authz-off,
service) on a prepared database. bench/floor.py answers each document with the same shape."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench import seed as seeding
from bench.apps import Setup
from resolvers.ids import encode_id

PAGE = 1000  # families per page in (a) and (b): the service's maximum page size
SWEEP = (10, 100)  # extra page sizes of (a), for the latency-vs-rows chart

_NOTE = "id kind text createdAt authorName setting { id code name }"


def _list_query(extra: str = "") -> str:
    return f"""query Families($first: Int!) {{
  families(first: $first) {{
    totalCount
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id
      version
      registeredSetting {{ id code name }}
      address {{ line1 line2 town postcode }}
      generalNote
      affiliations {{ id consentGivenBy consentDate revokedAt setting {{ id code name }} }}
      carers {{ id firstName lastName dateOfBirth gender ethnicity language }}
      children {{ id firstName lastName dateOfBirth gender ethnicity language }}{extra}
    }}
  }}
}}"""


# (a): a page of families with carers and children, PRIMARY and SECONDARY fields.
LIST_QUERY = _list_query()
# (b): the same page and each family's confidential notes. Under the policy a default list
# holds only families whose SECONDARY data the caller reads, so a list's denials come from a
# category beyond it: bench-half reads CONFIDENTIAL on about half the families. Each read is
# audited (one `confidential_notes.read` event per family, one insert per request).
CONFIDENTIAL_LIST_QUERY = _list_query(f"\n      confidentialNotes {{ {_NOTE} }}")

# (c): one family with all its relations. `warnings` and `hardToReachGroups` are left out:
# they are placeholders in the service today (always []), so they would measure nothing.
DETAIL_QUERY = f"""query Family($id: ID!) {{
  family(id: $id) {{
    id
    version
    registeredSetting {{ id code name }}
    address {{ line1 line2 town postcode }}
    generalNote
    access {{ read write }}
    affiliations {{ id consentGivenBy consentDate revokedAt setting {{ id code name }} }}
    notes {{ {_NOTE} }}
    confidentialNotes {{ {_NOTE} }}
    carers {{
      id firstName lastName dateOfBirth gender ethnicity language
      notes {{ {_NOTE} }}
      confidentialNotes {{ {_NOTE} }}
      relationships {{ relationship child {{ id firstName lastName }} }}
    }}
    children {{
      id firstName lastName dateOfBirth gender ethnicity language
      notes {{ {_NOTE} }}
      confidentialNotes {{ {_NOTE} }}
      childProtectionPlan {{ id startDate endDate category }}
    }}
  }}
}}"""

# (d): searchPeople, as a worker does before registering a family.
SEARCH_QUERY = """query Search($name: String!) {
  searchPeople(name: $name) {
    personId familyId firstName lastName dateOfBirth postcode
    registeredSetting { id code name }
  }
}"""

# Nested list fields below each workload's root field: the statements a request may take,
# authentication aside, are at most 1 + these (the "1 + nested list levels"), plus
# the insert of the read-audit events where the workload reads audited data.
NESTED_LISTS = {
    "a": 3,  # nodes' affiliations, carers, children
    "b": 4,  # and the families' confidentialNotes
    # affiliations, notes, confidentialNotes, carers, children, and carers' notes,
    # confidentialNotes and relationships, children's notes and confidentialNotes
    "c": 10,
    "d": 0,  # searchPeople is itself the list
}
# Workloads that read audited data (confidential notes, child-protection plans): the service
# writes the request's read-audit events in one insert after the reads, and so does the floor.
READ_AUDIT_INSERTS = {"b": 1, "c": 1}


def statement_bound(key: str) -> int:
    """The most statements a request of workload `key` may take besides authentication."""
    return 1 + NESTED_LISTS[key] + READ_AUDIT_INSERTS.get(key, 0)


Call = Callable[[], Awaitable[bytes]]
# Checks a workload's first answers (impl -> body) beyond `compare`; returns its note, raises
# AssertionError on a wrong answer.
Check = Callable[[dict[str, bytes]], str]


def graphql_call(s: Setup, impl: str, query: str, variables: dict[str, Any], token: str) -> Call:
    """One request of `impl` (authz-off or service) in-process."""
    return lambda: s.impls[impl].request(query, variables, token)


@dataclass
class Workload:
    key: str
    title: str
    rows: int  # families (or people, for search) in the answer, for the chart
    calls: dict[str, Call]
    # impl -> the impl whose `data` it must equal, or the name of one of `references`
    compare: dict[str, str] = field(default_factory=dict)
    # name (with a ":") -> an untimed call whose answer an impl is compared with
    references: dict[str, Call] = field(default_factory=dict)
    check: Check | None = None
    requests: int = 1  # requests one call sends (pages of a replay): statements are per request
    rounds: int | None = None  # at most this many timed rounds (a slow workload), no warm-up


def workloads(s: Setup) -> list[Workload]:
    manager, half = s.tokens["manager"], s.tokens["half"]
    detail = encode_id("Family", seeding.detail_family_id(s.n))
    same = {"authz-off": "floor", "standard": "floor", "service": "floor"}

    def trio(query: str, variables: dict[str, Any], token: str, floor: Call) -> dict[str, Call]:
        def gql(impl: str) -> Call:
            return lambda: s.impls[impl].request(query, variables, token)

        return {"floor": floor, "authz-off": gql("authz-off"), "standard": gql("standard"), "service": gql("service")}

    def families(token: str, first: int, confidential: bool = False) -> Call:
        return lambda: s.floor.families(token, first, confidential)

    found = [
        Workload("a", f"(a) {PAGE:,} families, manager", PAGE,
                 trio(LIST_QUERY, {"first": PAGE}, manager, families(manager, PAGE)), same),
        # authz-off has no guard: it answers everything, as the floor does for the manager
        Workload("b", f"(b) {PAGE:,} families, half confidential denied", PAGE,
                 trio(CONFIDENTIAL_LIST_QUERY, {"first": PAGE}, half, families(half, PAGE, confidential=True)),
                 {"service": "floor", "standard": "floor", "authz-off": "b:manager-floor"},
                 {"b:manager-floor": families(manager, PAGE, confidential=True)}),
        Workload("c", "(c) one family, all relations", 1,
                 trio(DETAIL_QUERY, {"id": detail}, manager, lambda: s.floor.family(manager, detail)), same),
        Workload("d", f'(d) searchPeople("{seeding.SEARCH_NAME}")', 0,
                 trio(SEARCH_QUERY, {"name": seeding.SEARCH_NAME}, manager,
                      lambda: s.floor.search(manager, seeding.SEARCH_NAME)), same),
    ]  # fmt: skip
    for size in SWEEP:
        found.append(
            Workload(f"a{size}", f"(a) {size} families, manager", size,
                     trio(LIST_QUERY, {"first": size}, manager, families(manager, size)), same)
        )  # fmt: skip
    return found
