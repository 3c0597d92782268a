from tests.factories import auth, fund, lead_fields, make_click, make_join, make_key, make_offer, make_user


def test_a_lead_submitted_with_a_click_id_is_validated_into_pending(client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    fund(advertiser, 10_000)
    click = make_click(make_join(webmaster, offer), sub1="a")
    response = client.post(
        "/api/v1/leads",
        json={"click_id": click.click_id, "fields": lead_fields()},
        headers=auth(make_key(webmaster)),
    )
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending"
    assert body["sub1"] == "a"
    assert "rate_minor" not in body
