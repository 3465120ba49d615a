"""The site map (/plan-du-site, RGAA 12.1 and 12.3): for each role, the menu's entries and
the pages the header, footer and sections link to; nothing that role cannot open; the public
pages for an anonymous reader; linked from the footer of every page."""

from __future__ import annotations

import re

import pytest

from incubator.navigation import menu_items
from tests.factories import make_user
from tests.helpers import text


def main_links(response) -> list[tuple[str, str]]:
    """(address, label) of each link in the page's main content."""
    main = text(response).split('<main id="contenu"', 1)[1].split("</main>", 1)[0]
    return [(href, re.sub(r"<[^>]+>", "", label).strip())
            for href, label in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', main, re.S)]


def footer(response) -> str:
    return text(response).split('<footer class="site-footer">', 1)[1]


def test_anonymous_readers_see_the_public_pages_and_can_open_each(client):
    response = client.get("/plan-du-site")
    assert response.status_code == 200
    assert main_links(response) == [
        ("/connexion", "Se connecter"), ("/mot-de-passe-oublie", "Mot de passe oublié"),
        ("/activation", "Activer mon compte avec un code"),
        ("/accessibilite", "Déclaration d'accessibilité"), ("/donnees-personnelles", "Données personnelles"),
        ("/plan-du-site", "Plan du site")]
    for href, _label in main_links(response):
        assert client.get(href).status_code == 200, href


def _people():
    boss = make_user(first_name="Nadia")
    make_user(manager=boss)  # makes Nadia an approver
    instance_admin = make_user(roles=["admin"])
    instance_admin.is_instance_admin = True
    return {"agent": make_user(), "rh": make_user(role="hr"), "encadrante": boss,
            "membre": make_user(collective=True), "animatrice": make_user(role="coordinator", collective=True),
            "admin": make_user(roles=["admin"]), "admin de l'instance": instance_admin}


def test_each_role_sees_its_menu_and_only_pages_it_can_open(make_client, login, server):
    for who, user in _people().items():
        client = make_client()
        login(client, user)
        response = client.get("/plan-du-site")
        assert response.status_code == 200, who
        links = main_links(response)
        with server.test_request_context():
            menu = [(item.url, item.label) for item in menu_items(user)]
        assert [link for link in links if link in menu] == menu, who
        for href in ("/mon-compte", "/notifications", "/accessibilite", "/donnees-personnelles", "/plan-du-site"):
            assert href in dict(links), (who, href)
        assert "/connexion" not in dict(links)
        for href, label in links:
            assert client.get(href).status_code == 200, (who, label, href)


def test_roles_see_their_own_pages_only(make_client, login):
    people = _people()
    pages = {}
    for who, user in people.items():
        client = make_client()
        login(client, user)
        pages[who] = dict(main_links(client.get("/plan-du-site")))
    assert not {"/rh/engagement", "/validations", "/admin/", "/admin/collectif", "/admin/collectivites",
                "/arbitrage/a-evaluer", "/arbitrage/recevabilite"} & set(pages["agent"])
    assert "/rh/engagement" in pages["rh"] and "/validations" in pages["encadrante"]
    assert "/arbitrage/a-evaluer" in pages["membre"] and "/arbitrage/recevabilite" not in pages["membre"]
    assert "/arbitrage/recevabilite" in pages["animatrice"] and "/admin/collectif" in pages["animatrice"]
    assert "/admin/agents" in pages["admin"] and "/admin/collectivites" not in pages["admin"]
    assert "/admin/collectivites" in pages["admin de l'instance"]


@pytest.mark.parametrize("path", ["/connexion", "/accessibilite", "/plan-du-site"])
def test_the_footer_links_to_the_site_map_when_signed_out(client, path):
    assert '<a href="/plan-du-site">Plan du site</a>' in footer(client.get(path))


def test_the_footer_links_to_the_site_map_when_signed_in(client, login):
    login(client, make_user(role="hr"))
    for path in ("/", "/propositions", "/arbitrage/journal", "/rh/engagement", "/nope"):
        assert '<a href="/plan-du-site">Plan du site</a>' in footer(client.get(path)), path
