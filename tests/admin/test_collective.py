from datetime import date

from sqlalchemy import func, select

from incubator.collective.models import CollectiveMembership
from incubator.extensions import db
from tests.factories import make_org_unit, make_user
from tests.helpers import field_errors, text


def test_coordinator_adds_and_ends_a_membership(client, login):
    coordinator = make_user(roles=["coordinator"])
    volunteer = make_user(org_unit=coordinator.org_unit, email="volontaire@ville.fr", category="C")
    login(client, coordinator)
    response = client.post("/admin/collectif", data={"member_email": "Volontaire@ville.fr",
                                                     "starts_on": "2026-01-01", "ends_on": "2027-12-31"})
    assert response.status_code == 303
    membership = db.session.scalar(select(CollectiveMembership))
    assert (membership.user_id, membership.starts_on, membership.ends_on) == (volunteer.id, date(2026, 1, 1), date(2027, 12, 31))
    page = text(client.get("/admin/collectif"))
    assert volunteer.full_name in page
    # Overlapping term refused.
    response = client.post("/admin/collectif", data={"member_email": volunteer.email, "starts_on": "2027-06-01"})
    assert response.status_code == 422 and "déjà un mandat sur cette période" in text(response)
    # End before start refused, its message on that membership's row of the page, then ended.
    response = client.post(f"/admin/collectif/{membership.id}/fin", data={"ends_on": "2025-01-01"})
    assert response.status_code == 422 and "<h1>Collectif pilote</h1>" in text(response)
    assert field_errors(text(response), f"ends_on-{membership.id}") == "La fin du mandat doit suivre son début."
    assert 'value="2025-01-01"' in text(response) and membership.ends_on == date(2027, 12, 31)
    assert client.post(f"/admin/collectif/{membership.id}/fin", data={"ends_on": "2026-06-30"}).status_code == 303
    assert membership.ends_on == date(2026, 6, 30)


def test_membership_bad_input(client, login):
    admin = make_user(roles=["admin"])
    outsider = make_user(org_unit=make_org_unit(), email="dehors@autre.fr")
    inactive = make_user(org_unit=admin.org_unit, is_active=False, email="parti@ville.fr")
    login(client, admin)
    cases = [
        ({"member_email": "", "starts_on": "2026-01-01"}, "Indiquez l'adresse de l'agent."),
        ({"member_email": outsider.email, "starts_on": "2026-01-01"}, "Choisissez un agent de la collectivité."),
        ({"member_email": inactive.email, "starts_on": "2026-01-01"}, "Ce compte est désactivé."),
        ({"member_email": admin.email, "starts_on": "pas une date"}, "date valide"),
        ({"member_email": admin.email, "starts_on": "2026-05-01", "ends_on": "2026-01-01"}, "La fin du mandat doit suivre son début."),
    ]
    for data, message in cases:
        response = client.post("/admin/collectif", data=data)
        assert response.status_code == 422, data
        assert message in text(response), message
    assert db.session.scalar(select(func.count()).select_from(CollectiveMembership)) == 0
