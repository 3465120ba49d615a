"""The RGAA audit grid (incubator/core/rgaa.py): the 106 criteria of RGAA 4.1, each judged
and each applicable one checked; docs/rgaa.md never drifts from it; the accessibility
statement and the footer show what it computes. The "guards" keep the grid's claims true:
what it calls absent (images, frames, media, layout tables…) stays absent from the templates."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from incubator.core import rgaa
from tests.factories import make_user
from tests.helpers import text

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"


def web_templates() -> dict[str, str]:
    """The templates of web pages (emails are not pages: they carry their own inline styles)."""
    return {str(p.relative_to(TEMPLATES)): p.read_text(encoding="utf-8") for p in TEMPLATES.rglob("*.html")
            if not p.name.startswith(("email", "digest"))}


# -- The grid --------------------------------------------------------------------------------

def test_106_criteria_numbered_theme_by_theme():
    assert len(rgaa.CRITERIA) == 106
    assert sum(count for _n, _name, count in rgaa.THEMES) == 106
    expected = [f"{number}.{i}" for number, _name, count in rgaa.THEMES for i in range(1, count + 1)]
    assert [c.number for c in rgaa.CRITERIA] == expected
    counts = {number: count for number, _name, count in rgaa.THEMES}
    assert counts == {1: 9, 2: 2, 3: 3, 4: 13, 5: 8, 6: 2, 7: 5, 8: 10, 9: 4, 10: 14, 11: 13, 12: 11, 13: 12}


def test_the_wording_is_the_referentials():
    titles = {c.number: c.title for c in rgaa.CRITERIA}
    assert titles["1.1"] == "Chaque image porteuse d’information a-t-elle une alternative textuelle\u00a0?"
    assert titles["11.13"].startswith("La finalité d’un champ de saisie peut-elle être déduite")
    assert titles["13.12"].startswith("Dans chaque page web, les fonctionnalités qui impliquent un mouvement")
    assert all(c.title.endswith("?") for c in rgaa.CRITERIA)
    assert len({c.title for c in rgaa.CRITERIA}) == 106


def test_each_criterion_is_judged_and_each_applicable_one_checked():
    for c in rgaa.CRITERIA:
        assert c.status in (rgaa.C, rgaa.NC, rgaa.NA), c.number
        assert set(c.checks) <= set(rgaa.CHECKS), c.number
        assert set(c.manual) <= set(rgaa.PROCEDURES), c.number
        if c.status != rgaa.NA:
            assert c.checks or c.manual, f"{c.number} : aucune vérification"
        if c.status != rgaa.C:
            assert c.note, f"{c.number} : dire pourquoi"
    assert all(p.steps for p in rgaa.PROCEDURES.values())


def test_every_check_names_files_that_exist():
    for key, check in rgaa.CHECKS.items():
        for path in check.paths:
            assert (ROOT / path).exists(), f"{key} : {path}"


def test_docs_rgaa_md_is_generated_from_the_grid():
    committed = (ROOT / "docs" / "rgaa.md").read_text(encoding="utf-8")
    assert committed == rgaa.markdown(), "docs/rgaa.md à régénérer : python -m incubator.core.rgaa"


def _grid(conforming: int, failing: int, not_applicable: int = 0) -> tuple[rgaa.Criterion, ...]:
    statuses = [rgaa.C] * conforming + [rgaa.NC] * failing + [rgaa.NA] * not_applicable
    # Copies of a real criterion: the grid's rows are written once, in rgaa.py.
    return tuple(dataclasses.replace(rgaa.CRITERIA[0], number=f"1.{i}", status=s, note="note")
                 for i, s in enumerate(statuses, 1))


@pytest.mark.parametrize(("conforming", "failing", "status", "label"), [
    (10, 0, "totalement conforme", "100\u00a0%"),
    (5, 5, "partiellement conforme", "50\u00a0%"),
    (2, 1, "partiellement conforme", "66,7\u00a0%"),
    (49, 51, "non conforme", "49\u00a0%"),
])
def test_the_rgaa_thresholds(conforming, failing, status, label):
    outcome = rgaa.result(_grid(conforming, failing, not_applicable=3))
    assert (outcome.status, outcome.rate_label) == (status, label)
    assert outcome.applicable == conforming + failing and outcome.not_applicable == 3


# -- Guards: what the grid calls absent stays absent ---------------------------------------------

def test_no_image_frame_media_or_captcha_outside_the_charts():
    # 1.x, 2.x, 4.x: the charts' SVG (incubator/dashboard/charts.py) are the only images.
    forbidden = re.compile(r"<(img|iframe|frame|video|audio|object|embed|canvas|area|svg)\b"
                           r"|type=\"image\"|role=\"img\"", re.IGNORECASE)
    found = [name for name, source in web_templates().items() if forbidden.search(source)]
    for path in (ROOT / "incubator").rglob("*.py"):
        if path.name not in ("charts.py", "rgaa.py") and forbidden.search(path.read_text(encoding="utf-8")):
            found.append(str(path.relative_to(ROOT)))
    assert found == []


def test_tables_are_data_tables_with_caption_and_scoped_headers():
    # 5.3, 5.4, 5.6, 5.7, 5.8: every table has its caption, every header cell its scope.
    problems = []
    for name, source in web_templates().items():
        tables = len(re.findall(r"<table\b", source))
        if tables != len(re.findall(r"<caption\b", source)):
            problems.append(f"{name} : tableau sans caption")
        problems += [f"{name} : {th}" for th in re.findall(r"<th\b[^>]*>", source) if "scope=" not in th]
        if re.search(r"role=\"presentation\"", source):
            problems.append(f"{name} : tableau de mise en forme")
    assert problems == []


def test_no_inline_style_positive_tabindex_access_key_or_refresh():
    # 10.1, 12.8, 12.10, 13.1 (meta refresh).
    pattern = re.compile(r"\sstyle=|tabindex=\"[1-9]|accesskey=|http-equiv=\"refresh\"", re.IGNORECASE)
    assert [name for name, source in web_templates().items() if pattern.search(source)] == []


def test_the_script_opens_no_window_and_binds_no_single_key():
    # 12.10, 13.2: the only key handled is Enter, in a search field.
    script = (ROOT / "static" / "js" / "app.js").read_text(encoding="utf-8")
    assert "window.open" not in script
    assert set(re.findall(r"event\.key === \"([^\"]+)\"", script)) <= {"Enter", "Escape"}


def test_arrows_and_symbols_are_decorative_never_content():
    # 13.5: a symbol standing for words ("→" for "au") is read "flèche droite". In the
    # templates, each is hidden beside its words; in the stylesheet, its alternative is empty.
    symbols = "→←›‹»⇒☰✕⚠"
    found = []
    for name, source in web_templates().items():
        shown = re.sub(r"<span aria-hidden=\"true\">[^<]*</span>", "", source)
        shown = re.sub(r"«|»", "", shown)  # French quotation marks are punctuation, read as such
        found += [f"{name} : {line.strip()}" for line in shown.splitlines() if any(s in line for s in symbols)]
    stylesheet = re.sub(r"/\*.*?\*/", "", (ROOT / "static" / "css" / "app.css").read_text(encoding="utf-8"),
                        flags=re.DOTALL)
    for rule in re.findall(r"[^{}]*\{[^}]*\}", stylesheet):
        # The plain `content` first, for browsers without alternative text, then the one with it.
        if "content:" in rule and any(s in rule for s in symbols) and not re.search(r"content:[^;]*/ \"\"", rule):
            found.append(f"app.css : {rule.strip()}")
    assert found == []


def test_the_layout_has_doctype_language_skip_link_landmarks_and_site_map():
    # 8.1, 8.3, 8.4, 12.6, 12.7.
    base = (TEMPLATES / "base.html").read_text(encoding="utf-8")
    assert base.startswith("<!doctype html>") and '<html lang="fr">' in base
    body = base.split("<body", 1)[1]
    assert re.search(r"^[^>]*>\s*<a class=\"skip-link\" href=\"#contenu\">", body)
    assert '<main id="contenu"' in base and "<header" in base and "<footer" in base
    assert 'aria-label="Navigation principale"' in base
    # 12.4: the site map, from the footer of every page.
    assert "url_for('core.site_map')" in base.split("<footer", 1)[1]


# -- The statement and the footer ------------------------------------------------------------

def test_the_statement_shows_the_grids_result_to_anyone(client, login):
    outcome = rgaa.result()
    for signed_in in (False, True):
        if signed_in:
            login(client, make_user())
        response = client.get("/accessibilite")
        assert response.status_code == 200
        page = text(response)
        assert f"L'Incubateur est <strong>{outcome.status}</strong>" in page
        assert f"<strong>{outcome.rate_label} des critères du RGAA version 4.1.2 sont respectés</strong>" in page
        assert f"{outcome.conforming} critères conformes sur {outcome.applicable} applicables" in page
        assert f"Accessibilité : {outcome.status}</a>" in page
        for c in rgaa.non_conformities():
            assert f"Critère {c.number}" in page and c.note in page
        assert "Cette déclaration a été établie le 30 novembre 2026." in page
        assert "axe-core" in page and "Nu Html Checker" in page and "<code>/propositions</code>" in page
        assert "Défenseur des droits" in page and "Libre réponse 71120" in page


def test_the_rate_status_and_list_follow_the_grid(client, monkeypatch):
    every = tuple(dataclasses.replace(c, status=rgaa.C) if c.status == rgaa.NC else c for c in rgaa.CRITERIA)
    monkeypatch.setattr(rgaa, "CRITERIA", every)
    page = text(client.get("/accessibilite"))
    assert "L'Incubateur est <strong>totalement conforme</strong>" in page and "100\u00a0% des critères" in page
    assert "Accessibilité : totalement conforme" in page
    assert "Critère " not in page and "<h3>Non-conformités</h3>\n<p>Aucune.</p>" in page

    # Half the applicable criteria failing, then more than half.
    applicable = [i for i, c in enumerate(rgaa.CRITERIA) if c.status != rgaa.NA]
    failing = set(applicable[: len(applicable) // 2])
    half = tuple(dataclasses.replace(c, status=rgaa.NC, note=f"Défaut {c.number}") if i in failing else
                 dataclasses.replace(c, status=rgaa.C if i in applicable else rgaa.NA)
                 for i, c in enumerate(rgaa.CRITERIA))
    monkeypatch.setattr(rgaa, "CRITERIA", half)
    outcome = rgaa.result()
    page = text(client.get("/accessibilite"))
    assert outcome.rate >= 50 and "L'Incubateur est <strong>partiellement conforme</strong>" in page
    assert f"{outcome.rate_label} des critères" in page and "Défaut 1.1" in page

    worse = tuple(dataclasses.replace(c, status=rgaa.NC, note=f"Défaut {c.number}") if c.status == rgaa.C else c
                  for c in half[:-3]) + half[-3:]
    monkeypatch.setattr(rgaa, "CRITERIA", worse)
    page = text(client.get("/accessibilite"))
    assert rgaa.result().rate < 50
    assert "L'Incubateur est <strong>non conforme</strong>" in page and "Accessibilité : non conforme" in page


def test_the_contact_is_the_configured_address(client, server, monkeypatch):
    page = text(client.get("/accessibilite"))
    assert "référent accessibilité de votre collectivité" in page and "mailto:" not in page
    monkeypatch.setitem(server.config, "ACCESSIBILITY_CONTACT_EMAIL", "accessibilite@ville.fr")
    page = text(client.get("/accessibilite"))
    assert '<a href="mailto:accessibilite@ville.fr">accessibilite@ville.fr</a>' in page


def test_the_statement_names_the_signed_in_persons_institution(client, login):
    user = make_user()
    assert "La collectivité qui met l'Incubateur à disposition de ses agents s'engage" in text(
        client.get("/accessibilite"))
    login(client, user)
    assert f"{user.institution.name}, qui met l'Incubateur à disposition de ses agents, s'engage" in text(
        client.get("/accessibilite"))
