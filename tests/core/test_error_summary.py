"""A refused form (RGAA 11.10): every error at once, a summary at the top linking to each
field, and the page's title starting with "Erreur : ", as a page and as an htmx fragment."""

import re

from sqlalchemy import func, select

from incubator.extensions import db
from incubator.proposals.models import Proposal
from tests.factories import make_org_unit, make_user
from tests.helpers import text

INITIATIVE_REQUIRED = ("title", "problem", "change", "beneficiaries", "gain", "needs")


def summary_links(page: str) -> dict[str, str]:
    """The summary's links: field id -> text."""
    found = re.search(r'<div class="error-summary" id="[^"]*" tabindex="-1" data-error-summary>(.*?)</div>\s*</div>',
                      page, re.S)
    assert found, page[:3000]
    return {anchor: re.sub(r"\s+", " ", label).strip()
            for anchor, label in re.findall(r'<a href="#([^"]+)">(.*?)</a>', found.group(1), re.S)}


def page_title(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1)


def ids_of(page: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', page))


def test_an_empty_initiative_submitted_reports_every_error_at_once(client, login):
    login(client, make_user())
    response = client.post("/propositions/nouvelle", data={"intent": "submit"})
    assert response.status_code == 422
    page = text(response)
    links = summary_links(page)
    assert set(links) == set(INITIATIVE_REQUIRED)
    assert "Le formulaire contient 6 erreurs" in page
    assert links["title"].startswith("Titre : Le titre doit compter")
    assert links["problem"] == "Le problème : Décrivez le problème auquel la proposition répond."
    assert set(links) <= ids_of(page)
    assert page_title(page).startswith("Erreur : Proposer une initiative · ")
    # The summary comes before the form's first field.
    assert page.index("data-error-summary") < page.index('id="title"')
    assert db.session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_a_draft_reports_only_what_a_draft_needs_but_all_of_it(client, login):
    login(client, make_user())
    response = client.post("/propositions/nouvelle", data={"intent": "draft", "coauthor_emails": "inconnu@ville.fr"})
    assert response.status_code == 422
    assert set(summary_links(text(response))) == {"title", "coauthor_emails"}


def test_an_empty_offer_links_every_field_including_a_group_of_choices(client, login):
    user = make_user()
    login(client, user)
    response = client.post("/propositions/nouvelle-offre", data={
        "intent": "submit", "host_org_unit_id": "", "contact_email": "", "open_to": "ailleurs"})
    assert response.status_code == 422
    page = text(response)
    links = summary_links(page)
    assert {"title", "mission", "learning", "contribution", "duration_days", "window_starts_on",
            "window_ends_on", "host_org_unit_id", "contact_email", "open_to-0"} <= set(links)
    assert set(links) <= ids_of(page)


def test_an_htmx_fragment_carries_the_error_title(client, login):
    login(client, make_user())
    response = client.post("/propositions/nouvelle", data={"intent": "submit"}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    page = text(response)
    assert "<html" not in page
    assert page.startswith("<title>Erreur : Proposer une initiative · ")
    assert set(summary_links(page)) == set(INITIATIVE_REQUIRED)


def test_a_page_that_is_not_refused_has_neither_summary_nor_error_title(client, login):
    login(client, make_user())
    response = client.get("/propositions/nouvelle")
    page = text(response)
    assert "data-error-summary" not in page
    assert not page_title(page).startswith("Erreur")
    fragment = text(client.get("/propositions/nouvelle", headers={"HX-Request": "true"}))
    assert "<title>" not in fragment


def test_form_and_service_errors_are_reported_together(client, login):
    # The form refuses the empty name (its own validator); the service refuses the code and
    # the unknown parent unit: all at once, not the service's after the form's are fixed.
    admin = make_user(roles=("admin",))
    login(client, admin)
    make_org_unit(admin.institution, code="UNIT")
    response = client.post("/admin/services/nouveau", data={"name": "", "code": "a b!", "kind": "service",
                                                               "parent_id": "999999"})
    assert response.status_code == 422
    links = summary_links(text(response))
    assert set(links) >= {"name", "code", "parent_id"}, links


def test_the_forms_before_signing_in_have_their_summary_too(client):
    for path, fields in [("/connexion", {"email", "password"}), ("/mot-de-passe-oublie", {"email"}),
                         ("/activation", {"login", "code", "password", "confirm_password"})]:
        response = client.post(path, data={})
        assert response.status_code == 422, path
        page = text(response)
        links = summary_links(page)
        assert set(links) <= ids_of(page), path
        assert page_title(page).startswith("Erreur : ") and page_title(page).endswith(" · Incubateur"), path
        assert fields <= set(links), (path, links)


def test_the_services_messages_complete_the_forms_never_replace_them(app, caplog):
    from wtforms import StringField
    from wtforms.validators import DataRequired

    from incubator.errors import WHOLE_FORM, NotAllowed, ValidationFailed
    from incubator.forms import Form, add_service_errors

    class Sample(Form):
        a = StringField("A", validators=[DataRequired("A manque.")])
        b = StringField("B")

    def refuses():
        raise ValidationFailed({"a": "Du service.", "b": "B refusé.", "ailleurs": "Inconnu.", WHOLE_FORM: "Global."})

    def crashes():
        raise TypeError("une valeur que le formulaire a refusée")

    def forbids():
        raise NotAllowed("Non.")

    with app.test_request_context(method="POST", data={"a": "", "b": ""}):
        form = Sample(meta={"csrf": False})
        assert not form.validate()
        add_service_errors(form, refuses)
        # The field the form refused keeps its own message; the other gets the service's;
        # messages about the whole form, or a field it has not, wait for valid input.
        assert (form.a.errors, form.b.errors, form.form_errors) == (["A manque."], ["B refusé."], [])
        for action in (crashes, forbids):
            add_service_errors(form, action)
            assert (form.a.errors, form.b.errors) == (["A manque."], ["B refusé."])
    assert "Contrôle complémentaire d'un formulaire invalide interrompu" in caplog.text
