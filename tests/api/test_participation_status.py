from sqlalchemy import func, select

from exchange.leads.models import Lead
from tests.factories import auth, lead_fields, make_join, make_key, make_offer, make_user


def test_a_webmaster_whose_participation_is_not_active_cannot_submit_leads(client, ctx):
    webmaster = make_user("webmaster")
    participation = make_join(webmaster, make_offer(make_user("advertiser")))
    participation.status = "banned"
    ctx.commit()

    response = client.post(
        "/api/v1/leads",
        json={"offer_id": participation.offer_id, "fields": lead_fields()},
        headers=auth(make_key(webmaster)),
    )

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "participation_inactive"
    assert ctx.scalar(select(func.count()).select_from(Lead)) == 0
