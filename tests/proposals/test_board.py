import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from incubator.extensions import db
from incubator.pagination import KEYS_COUNTED_AT_MOST
from incubator.proposals.search import compact_index, index_segments
from incubator.proposals.services import _refresh_search_text
from incubator.timeutil import utcnow
from tests.factories import (
    make_institution,
    make_many_proposals,
    make_org_unit,
    make_proposal,
    make_theme,
    make_user,
)
from tests.helpers import text


def test_board_shows_submitted_proposals_of_the_institution_only(client, login):
    agent = make_user()
    make_proposal(author=agent, state="submitted", title="Covoiturage entre agents")
    make_proposal(author=agent, state="draft", title="Brouillon privé")
    make_proposal(author=make_user(org_unit=make_org_unit(make_institution())), title="Idée d'ailleurs")
    login(client, agent)
    page = text(client.get("/propositions"))
    assert "Covoiturage entre agents" in page
    assert "Brouillon privé" not in page and "Idée d'ailleurs" not in page
    assert "Déposée" in page and "L'animation du collectif vérifie sa recevabilité" in page


def test_empty_board_says_what_to_do(client, login):
    login(client, make_user())
    page = text(client.get("/propositions"))
    assert "Aucune proposition n'a encore été déposée" in page and "Proposer une initiative" in page


# At a fixed moment: the card's « À cette étape depuis N jours » counts Paris calendar
# days, and run at 23:30 in December, 40 × 24 h back is 00:30 the next day in October
# (summer time): 39 days by the calendar, and the test failed in CI's late evenings.
@time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=ZoneInfo("Europe/Paris")), tick=False)
def test_search_filters_and_sorts(client, login):
    agent = make_user(first_name="Hélène", last_name="Lefèvre")
    direction = make_org_unit(agent.institution, kind="direction", name="Direction technique")
    service = make_org_unit(agent.institution, parent=direction, name="Bâtiments")
    # A name of its own: the factories' default ("Agent1003") would match the search for
    # "100" below once a worker has made a hundred agents.
    builder = make_user(org_unit=service, last_name="Martin")
    theme = make_theme(agent.institution, "Écologie")
    old = make_proposal(author=agent, state="in_review", title="Éteindre l'éclairage la nuit", theme_id=theme.id)
    offer = make_proposal(author=builder, kind="mobility", state="submitted", title="Une semaine aux bâtiments")
    popular = make_proposal(author=builder, state="accepted", title="Des fontaines à eau")
    old.state_changed_at = utcnow() - timedelta(days=40)
    old.submitted_at = utcnow() - timedelta(days=50)
    popular.support_count = 12
    login(client, make_user(org_unit=agent.org_unit))

    def titles(query: str) -> list[str]:
        page = text(client.get("/propositions?" + query))
        return [t for t in (old.title, offer.title, popular.title) if t in page]

    # Accent- and case-insensitive, on title, text and author.
    assert titles("q=eclairage") == [old.title]
    assert titles("q=LEFEVRE") == [old.title]
    assert titles("q=nuit+eteindre") == [old.title]
    assert titles("q=100%25") == []
    assert titles("nature=mobility") == [offer.title]
    assert titles("etape=accepted") == [popular.title]
    assert titles(f"theme={theme.id}") == [old.title]
    assert sorted(titles(f"service={direction.id}")) == sorted([offer.title, popular.title])
    # Filters and words combined: each value reaches its own parameter (the statement of a
    # combination is built once and serves every request).
    assert titles(f"q=fontaines&etape=accepted&service={direction.id}") == [popular.title]
    assert titles("q=fontaines&etape=in_review") == []
    assert titles(f"q=semaine+batiments&nature=mobility&tri=supported&service={service.id}") == [offer.title]
    assert titles(f"q=eteindre&theme={theme.id}&tri=waiting") == [old.title]
    assert titles(f"q=fontaines&theme={theme.id}") == []
    page = text(client.get("/propositions?tri=supported"))
    assert page.index(popular.title) < page.index(offer.title)
    page = text(client.get("/propositions?tri=waiting"))
    assert page.index(old.title) < page.index(offer.title) < page.index(popular.title)
    # Days in the current step, on the card.
    assert "À cette étape depuis 40 jours." in text(client.get("/propositions?q=eclairage"))
    # Unknown values are ignored, not errors.
    assert client.get("/propositions?nature=x&etape=draft&theme=abc&service=-1&tri=y&page=0").status_code == 200
    fragment = client.get("/propositions?q=eclairage", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="results"') and "<html" not in fragment


def test_board_query_count_is_fixed_whatever_the_volume(client, login, count_queries):
    agent = make_user()
    make_theme(agent.institution)
    make_many_proposals(agent, 10)
    login(client, agent)
    counts = {}
    for label in ("ten", "thousand"):
        if label == "thousand":
            make_many_proposals(agent, 990)
        for query in ("", "?tri=supported", "?q=generee&nature=initiative", "?tri=waiting"):
            with count_queries() as counter:
                response = client.get("/propositions" + query)
            assert response.status_code == 200
            counts[(label, query)] = counter.count
    for query in ("", "?tri=supported", "?q=generee&nature=initiative", "?tri=waiting"):
        # A search may first look among recent proposals, then run whole (board_page): one more.
        extra = 1 if "q=" in query else 0
        assert counts[("thousand", query)] <= counts[("ten", query)] <= counts[("thousand", query)] + extra, \
            (query, counts)
    assert max(counts.values()) <= 10
    page = text(client.get("/propositions"))
    assert "1\u202f000 propositions" in page and "Page 1 sur 50" in page and "Plus de" not in page


def test_long_lists_count_up_to_a_cap_and_every_page_stays_reachable(client, login, server, monkeypatch):
    monkeypatch.setitem(server.config, "LIST_COUNT_CAP", 40)
    agent = make_user()
    make_many_proposals(agent, 65)  # "Proposition générée 0" is the newest
    login(client, agent)
    first = text(client.get("/propositions"))
    assert "Plus de 40 propositions" in first
    assert "Page 1 — plus de 40 résultats : affinez avec les filtres" in first
    assert 'href="/propositions?page=3"' in first  # the page known to exist past the count
    assert 'href="/propositions?page=4"' not in first
    # Further on, the count follows the page read: the next page is always offered.
    third = text(client.get("/propositions?page=3"))
    assert "Proposition générée 40" in third and "Proposition générée 59" in third
    assert 'rel="next"' in third and "Plus de 60 propositions" in third
    last = text(client.get("/propositions?page=4"))
    assert "Proposition générée 64" in last and 'rel="next"' not in last
    assert "65 propositions" in last and "Page 4 sur 4" in last
    # Each page has a title of its own (issue 20), without a total while it is not known.
    assert "<title>Propositions · " in first
    assert "<title>Propositions — page 3 · " in third and "<title>Propositions — page 4 sur 4 · " in last
    # Under the cap, the exact number, as before.
    filtered = text(client.get("/propositions?etape=accepted"))
    assert "16 propositions" in filtered and "Plus de" not in filtered


def test_a_list_is_counted_by_the_query_of_its_page(client, login, count_queries, server, monkeypatch):
    """The (capped) count is a column of the page's keys: one query for both, and on
    PostgreSQL one round trip. An empty page says nothing of the list: counted on its own,
    and a page past the end (a link kept from a longer list) shows the last one, not
    « nothing was ever submitted ». (Under KEYS_COUNTED_AT_MOST, a search's keys are all
    read and counted in Python.)"""
    monkeypatch.setitem(server.config, "LIST_COUNT_CAP", KEYS_COUNTED_AT_MOST)
    agent = make_user()
    make_many_proposals(agent, 65)
    login(client, agent)

    def counting(statements: list[str]) -> list[str]:
        return [s for s in statements if "count(*)" in s and "FROM proposals" in s]

    with count_queries() as counter:
        first = text(client.get("/propositions"))
    assert len(counting(counter.statements)) == 1, counter.statements
    assert "list_count" in counting(counter.statements)[0]
    assert "65 propositions" in first and "Proposition générée 0" in first and "Page 1 sur 4" in first
    with count_queries() as counter:
        beyond = text(client.get("/propositions?page=9"))
    assert len(counting(counter.statements)) >= 2, counter.statements
    assert "list_count" not in counting(counter.statements)[1]
    # Past the end, the board shows its last page (with the count of the whole list).
    assert "65 propositions" in beyond and "Page 4 sur 4" in beyond and "Proposition générée 64" in beyond


def test_similar_proposals_while_typing(client, login):
    agent = make_user()
    target = make_proposal(author=agent, state="in_review", title="Un carnet de santé numérique des bâtiments")
    make_proposal(author=agent, state="withdrawn", title="Carnet des bâtiments retiré")
    make_proposal(author=agent, state="draft", title="Carnet de santé brouillon")
    login(client, make_user(org_unit=agent.org_unit))
    fragment = text(client.get("/propositions/similaires?title=carnet+sante+batiment"))
    assert target.title in fragment and "retiré" not in fragment and "brouillon" not in fragment
    assert "Des propositions proches existent déjà" in fragment
    assert "Des propositions proches" not in text(client.get("/propositions/similaires?title=pour+les"))
    assert target.title not in text(client.get(f"/propositions/similaires?title=carnet&exclude={target.id}"))


def test_search_index_follows_edits_and_short_or_odd_words(client, login):
    """On SQLite the words of three letters or more go through the trigram index (kept in
    step by triggers); shorter words and LIKE wildcards take the plain path."""
    author = make_user()
    proposal = make_proposal(author=author, state="submitted", title="Ouvrir la médiathèque le dimanche")
    other = make_proposal(author=author, state="submitted", title="Un bac_à_sable pour les tests de 3D")
    login(client, make_user(org_unit=author.org_unit))

    def found(query: str) -> list[str]:
        page = text(client.get("/propositions?q=" + query))
        return [p.title for p in (proposal, other) if p.title in page]

    assert found("mediatheque+dimanche") == [proposal.title]
    assert found("3d") == [other.title]
    assert found("bac_a") == [other.title]
    assert found("bac_x") == []  # "_" is a letter here, not a wildcard
    # Indexed and plain words in one search, in any order.
    assert found("3d+tests") == [other.title]
    assert found("sable+3d+bac_a") == [other.title]
    assert found("3d+dimanche") == []
    proposal.title = "Ouvrir la ludothèque le samedi"
    _refresh_search_text(proposal)
    db.session.flush()
    assert found("mediatheque") == []
    assert found("ludotheque+samedi") == [proposal.title]
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as connection:
            plan = " ".join(str(r) for r in connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT rowid FROM proposal_search WHERE proposal_search MATCH '\"ludo\"'"))
        assert "VIRTUAL TABLE INDEX" in plan


def test_search_lists_newest_submissions_first_and_counts_up_to_its_cap(client, login, server, monkeypatch):
    """The index gives a search's matches in the board's order (newest submission first),
    whatever the proposals' numbers, and follows a later submission or a changed date."""
    monkeypatch.setitem(server.config, "SEARCH_COUNT_CAP", 21)
    author = make_user()
    now = utcnow()
    late = make_proposal(author=author, state="draft", title="Compost au jardin A")
    others = [make_proposal(author=author, title=f"Compost au jardin {letter}",
                            submitted_at=now - timedelta(days=days))
              for letter, days in (("B", 2), ("C", 1), ("D", 3), ("E", 4))]
    make_proposal(author=author, title="Autre sujet", submitted_at=now)
    late.state, late.submitted_at, late.version_number = "submitted", now - timedelta(hours=1), 1
    db.session.flush()
    login(client, make_user(org_unit=author.org_unit))

    def page(number: int) -> tuple[list[str], str]:
        found = text(client.get(f"/propositions?q=compost+jardin&page={number}"))
        letters = [t for t in "ABCDE" if f"Compost au jardin {t}" in found]
        return sorted(letters, key=lambda t: found.index(f"Compost au jardin {t}")), found

    letters, first = page(1)
    assert letters == ["A", "C", "B", "D", "E"]
    assert "5 propositions correspondant à votre recherche" in first and "Autre sujet" not in first
    others[3].submitted_at = now + timedelta(minutes=1)
    db.session.flush()
    assert page(1)[0] == ["E", "A", "C", "B", "D"]
    # Another order than the newest sorts every match, as before.
    assert "Compost au jardin E" in text(client.get("/propositions?q=compost&tri=waiting"))
    # A search counts up to its own cap (a page of twenty, then one more page known).
    make_many_proposals(author, 30)
    many = text(client.get("/propositions?q=generee"))
    assert "Plus de 21 propositions correspondant à votre recherche" in many
    assert "Proposition générée 0" in many and "Proposition générée 19" in many
    assert "Proposition générée 20" in text(client.get("/propositions?q=generee&page=2"))
    assert "30 propositions" in text(client.get("/propositions?q=generee&page=2&tri=supported"))


def test_the_nightly_compaction_merges_the_search_index_without_changing_a_result(app, client, login):
    """Each proposal indexed in a transaction of its own adds a segment to SQLite's index,
    which every search reads; `flask search compact` merges them, in short steps, and the
    searches find the same proposals before and after, and the next ones too."""
    author = make_user()
    titles = [f"Compost partagé au jardin {n}" for n in range(6)]
    for title in titles:
        make_proposal(author=author, state="submitted", title=title)
        db.session.commit()
    make_proposal(author=author, state="submitted", title="Autre sujet")
    db.session.commit()
    login(client, make_user(org_unit=author.org_unit))

    def found(query: str) -> list[str]:
        page = text(client.get("/propositions?q=" + query))
        return sorted(t for t in [*titles, "Autre sujet", "Compost du soir"] if t in page)

    assert found("compost+jardin") == sorted(titles)
    before = index_segments()
    result = app.test_cli_runner().invoke(args=["search", "compact"])
    assert result.exit_code == 0, result.output
    if db.engine.dialect.name != "sqlite":
        assert before is None and compact_index() == 0
        assert "Rien à faire sur PostgreSQL" in result.output
        return
    assert before > 1 and index_segments() == 1
    assert f"{before} segment(s) → 1" in result.output
    assert found("compost+jardin") == sorted(titles) and found("sujet") == ["Autre sujet"]
    # Indexing goes on after it; a compaction of one page per step takes several steps.
    make_proposal(author=author, state="submitted", title="Compost du soir")
    db.session.commit()
    assert index_segments() == 2 and found("compost") == sorted([*titles, "Compost du soir"])
    assert compact_index(pages_per_step=1) > 1 and index_segments() == 1
    assert found("compost") == sorted([*titles, "Compost du soir"])


def test_a_search_no_index_orders_looks_among_recent_proposals_first(client, login, server, monkeypatch,
                                                                     count_queries):
    """Where no index gives a search's matches newest first (PostgreSQL; on SQLite, words of
    two letters), the board first searches the last 90 days: enough matches there, and the
    answer comes from them alone; too few, and the whole search runs. The pages and counts
    are the same either way."""
    monkeypatch.setitem(server.config, "SEARCH_COUNT_CAP", 21)
    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=ZoneInfo("Europe/Paris")), tick=False):
        author = make_user()
        make_many_proposals(author, 25, title="Atelier zq récent {n:02}", every=timedelta(days=3))
        make_many_proposals(author, 10, title="Atelier zq ancien {n:02}", every=timedelta(days=1),
                            ago=timedelta(days=200))
        make_many_proposals(author, 1, title="Atelier yx récent {n:02}", ago=timedelta(days=10))
        make_many_proposals(author, 2, title="Atelier yx ancien {n:02}", ago=timedelta(days=400))
        db.session.flush()
        login(client, make_user(org_unit=author.org_unit))

        def search(query: str) -> tuple[list[str], str, list[str]]:
            with count_queries() as counter:
                found = text(client.get(f"/propositions?{query}"))
            titles = re.findall(r"Atelier (?:zq|yx) (?:récent|ancien) \d\d", found)
            searches = [s for s in counter.statements if "LIKE" in s.upper() and "FROM proposals" in s]
            return list(dict.fromkeys(titles)), found, searches

        # 21 matches and more among the last 90 days (days 0 to 87): they are the answer.
        titles, page, searches = search("q=zq")
        assert titles == [f"Atelier zq récent {n:02}" for n in range(20)]
        assert "Plus de 21 propositions correspondant à votre recherche" in page
        assert len(searches) == 1 and "submitted_at >=" in searches[0]
        # Page 2 needs 41 matches: the 25 recent ones are too few, the whole search runs.
        titles, page, searches = search("q=zq&page=2")
        assert titles == [f"Atelier zq récent {n:02}" for n in range(20, 25)] + [
            f"Atelier zq ancien {n:02}" for n in range(10)]
        assert "35 propositions correspondant à votre recherche" in page
        assert len(searches) == 2 and "submitted_at >=" not in searches[1]
        # A rarer word: one recent match, then the whole search and its older ones.
        titles, page, searches = search("q=yx")
        assert titles == ["Atelier yx récent 00", "Atelier yx ancien 00", "Atelier yx ancien 01"]
        assert "3 propositions correspondant à votre recherche" in page and len(searches) == 2
        # Another order, or no search: no detour.
        assert len(search("q=zq&tri=supported")[2]) == 1
        assert "submitted_at >=" not in search("q=zq&tri=supported")[2][0]
