"""The GraphQL documents of the workloads. bench/floor.py answers each with the same shape."""

# (a) and (b): a page of families with carers and children, PRIMARY and SECONDARY fields.
LIST_QUERY = """query Families($first: Int!) {
  families(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      version
      registeredSetting { id code name }
      address { line1 line2 town postcode }
      generalNote
      affiliations { id consentGivenBy consentDate revokedAt setting { id code name } }
      carers { id firstName lastName dateOfBirth gender ethnicity language }
      children { id firstName lastName dateOfBirth gender ethnicity language }
    }
  }
}"""

# (c): one family with all its relations. `warnings` and `hardToReachGroups` are left out:
# they are placeholders in the service today (always []), so they would measure nothing.
_NOTE = "id kind text createdAt authorName setting { id code name }"
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
# authentication aside, are at most 1 + these (the "1 + nested list levels").
NESTED_LISTS = {
    "a": 3,  # nodes' affiliations, carers, children
    "b": 3,
    # affiliations, notes, confidentialNotes, carers, children, and carers' notes,
    # confidentialNotes and relationships, children's notes and confidentialNotes
    "c": 10,
    "d": 0,  # searchPeople is itself the list
}
