async def test_manager_reads_own_family(api, world):
    data = await api.ok(
        """query($id: ID!) { family(id: $id) { id version address { postcode } generalNote
             carers { firstName relationships { relationship child { firstName } } notes { text } confidentialNotes { text } }
             children { firstName childProtectionPlan { category } }
             notes { text authorName setting { code } } confidentialNotes { text } affiliations { id }
             access { read write } } }""",
        {"id": world.families["own"].id},
        world.tokens["MANAGER"],
    )
    print(data)
    assert data["family"]["address"]["postcode"] == "WF1 1AA"


async def test_head_of_centre_other_family(api, world):
    body = await api.post(
        """query($id: ID!) { family(id: $id) { id address { postcode } generalNote confidentialNotes { text } } }""",
        {"id": world.families["other"].id},
        world.tokens["HEAD_OF_CENTRE"],
    )
    print(body)
    assert body["data"]["family"]["generalNote"] is None
