import pytest

from tests.factories import auth, fund, lead_fields, make_join, make_key, make_offer, make_user, offer_data


@pytest.mark.parametrize("case", range(7))
def test_probe(client, ctx, case):
    adv, wm, admin = make_user("advertiser"), make_user("webmaster"), make_user("admin")
    offer = make_offer(adv)
    fund(adv, 10_000)
    make_join(wm, offer)
    h = auth(make_key(wm))
    ha = auth(make_key(adv))
    if case == 0:
        r = client.post("/api/v1/leads", headers=h, json={"offer_id": offer.id, "fields": {
            **lead_fields(), "email": "a" * 250 + "@example.com"}})
    elif case == 1:
        r = client.get("/api/v1/leads/" + str(10**20), headers=h)
    elif case == 2:
        r = client.post("/api/v1/offers", headers=ha, json=offer_data(rate_minor=10**20, payout_minor=1))
    elif case == 3:
        hh = auth(make_key(admin))
        r = client.post("/api/v1/admin/credits", headers=hh, json={"advertiser_id": adv.id, "currency": "USD",
                        "amount_minor": 5, "reference": "r1"})
        print(r.status_code, r.get_json())
        r = client.post("/api/v1/admin/credits", headers=hh, json={"advertiser_id": adv.id, "currency": "USD",
                        "amount_minor": 6, "reference": "r1"})
    elif case == 4:
        r = client.get("/api/v1/offers", headers=h)
        print(r.get_json())
        r = client.post(f"/api/v1/offers/{offer.id}/join", headers=h)
    elif case == 5:
        r = client.get("/api/v1/transfers", headers=ha)
    elif case == 6:
        r = client.get("/api/v1/balance", headers=ha)
    print(r.status_code, r.get_json())
    assert 0
