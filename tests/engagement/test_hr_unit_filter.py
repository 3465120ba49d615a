"""The HR report's unit filter: a select of directions, then one of the chosen direction's
services (engagement.units), instead of one select of every unit of the institution."""

import re

import pytest

from incubator.engagement.queries import HR_PAGE_SIZE
from tests.factories import make_org_unit, make_user
from tests.helpers import text


@pytest.fixture
def tree():
    hr = make_user(roles=["hr"], last_name="Rh")
    pole = make_org_unit(hr.institution, kind="direction", name="Pôle ressources", code="P1")
    finances = make_org_unit(hr.institution, kind="direction", parent=pole, name="Finances", code="D1")
    budget = make_org_unit(hr.institution, parent=finances, name="Budget", code="S1")
    payroll = make_org_unit(hr.institution, parent=budget, name="Paie", code="S1a")
    works = make_org_unit(hr.institution, kind="direction", name="Travaux", code="D2")
    roads = make_org_unit(hr.institution, parent=works, name="Voirie", code="S2")
    make_user(org_unit=budget, last_name="Budgétaire")
    make_user(org_unit=payroll, last_name="Payeur")
    make_user(org_unit=roads, last_name="Cantonnier")
    return {"hr": hr, "pole": pole, "finances": finances, "budget": budget, "payroll": payroll,
            "works": works, "roads": roads}


def _select(page: str, name: str) -> str:
    found = re.search(rf'<select id="{name}" name="{name}">(.*?)</select>', page, re.S)
    return found.group(1) if found else ""


def _shown(page: str) -> set[str]:
    return {name for name in ("Budgétaire", "Payeur", "Cantonnier") if name in page.split('id="results"')[1]}


def test_directions_first_then_the_services_of_the_chosen_one(tree, client, login):
    login(client, tree["hr"])
    page = text(client.get("/rh/engagement?annee=2026"))
    directions = _select(page, "direction")
    assert "Pôle ressources (P1)" in directions and "\u2003Finances (D1)" in directions and "Travaux (D2)" in directions
    assert "Budget" not in directions and 'id="service"' not in page
    assert _shown(page) == {"Budgétaire", "Payeur", "Cantonnier"}

    # A direction: its services (sub-services indented) in a second select, its agents and its sub-units'.
    page = text(client.get(f"/rh/engagement?annee=2026&direction={tree['finances'].id}"))
    services = _select(page, "service")
    assert "Budget (S1)" in services and "\u2003Paie (S1a)" in services and "Voirie" not in services
    assert f'<option value="{tree["finances"].id}" selected>' in _select(page, "direction")
    assert _shown(page) == {"Budgétaire", "Payeur"}

    # A service of that direction (and its sub-services).
    page = text(client.get(f"/rh/engagement?annee=2026&direction={tree['finances'].id}&service={tree['payroll'].id}"))
    assert f'<option value="{tree["payroll"].id}" selected>' in _select(page, "service")
    assert _shown(page) == {"Payeur"}

    # A pole: its directions are in the first select, so its own service list is empty.
    page = text(client.get(f"/rh/engagement?annee=2026&direction={tree['pole'].id}"))
    assert 'id="service"' not in page and _shown(page) == {"Budgétaire", "Payeur"}


def test_a_service_left_from_another_direction_is_dropped_and_a_shared_link_still_works(tree, client, login):
    login(client, tree["hr"])
    page = text(client.get(f"/rh/engagement?annee=2026&direction={tree['works'].id}&service={tree['budget'].id}"))
    assert _shown(page) == {"Cantonnier"}
    assert "Voirie (S2)" in _select(page, "service") and " selected>" not in _select(page, "service")
    # A link with the service alone (older links, the audit log's filters) shows its direction too.
    page = text(client.get(f"/rh/engagement?annee=2026&service={tree['budget'].id}"))
    assert f'<option value="{tree["finances"].id}" selected>' in _select(page, "direction")
    assert f'<option value="{tree["budget"].id}" selected>' in _select(page, "service")
    assert _shown(page) == {"Budgétaire", "Payeur"}


def test_an_htmx_answer_sends_the_service_list_out_of_band(tree, client, login):
    login(client, tree["hr"])
    fragment = text(client.get(f"/rh/engagement?annee=2026&direction={tree['works'].id}",
                               headers={"HX-Request": "true"}))
    assert fragment.lstrip().startswith('<div class="field" id="service-field" data-hx-swap-oob="true">')
    assert "Voirie (S2)" in fragment and "<form" not in fragment
    fragment = text(client.get("/rh/engagement?annee=2026", headers={"HX-Request": "true"}))
    assert '<div class="field" id="service-field" data-hx-swap-oob="true" hidden>' in fragment


def test_the_count_is_exact_unless_a_filter_reads_each_agent(tree, client, login, monkeypatch):
    login(client, tree["hr"])
    assert '<p class="visually-hidden" role="status">4 agents</p>' in text(client.get("/rh/engagement?annee=2026"))
    monkeypatch.setitem(client.application.config, "LIST_COUNT_CAP", 2)  # never below the page
    for n in range(51):
        make_user(org_unit=tree["roads"], last_name=f"Zz{n:02d}")
    assert 'role="status">55 agents</p>' in text(client.get("/rh/engagement?annee=2026"))
    page = text(client.get("/rh/engagement?annee=2026&q=zz"))
    assert f'role="status">Plus de {HR_PAGE_SIZE} agents</p>' in page
