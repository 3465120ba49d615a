"""The validators of the journeys (tests/e2e/validators.py) catch what they are for, on pages
built for it: a check that never fails would let everything through."""

import pytest

from . import validators

pytestmark = pytest.mark.e2e

FAULTY = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Page fautive</title>
<style>:focus-visible { outline: 3px solid #ffd84d; outline-offset: 2px; }
.wide { width: 600px; } .quiet:focus-visible { outline: none; }</style></head>
<body><main><h1>Fautive</h1><a href="#a">Un lien</a><div class="wide">Trop large</div>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<button class="quiet">Sans indicateur</button>
<input id="same" aria-label="Un"><input id="same" aria-label="Deux"></main></body></html>"""

SOUND = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Page saine</title>
<style>:focus-visible { outline: 3px solid #1a1a1a; outline-offset: 2px; }
.dark { background: #1a1a1a; color: #fff; padding: 1rem; } .dark a { color: #fff; }
.dark :focus-visible { outline-color: #fff; }
.night { background: #1a1a1a; padding: 1rem; }
.night .halo:focus-visible { outline: 3px solid #0b0c0c; box-shadow: 0 0 0 2px #fff; }</style></head>
<body><main><h1 id="haut">Saine</h1><a href="#haut">Un lien</a><div class="dark"><a href="#nom">Sur fond sombre</a></div>
<label for="nom">Nom</label><input id="nom">
<div class="night"><button class="halo">Anneau sombre, halo clair</button></div></main></body></html>"""


@pytest.fixture
def bare_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def test_each_check_catches_its_fault(bare_page, tmp_path):
    page = bare_page
    page.set_content(FAULTY)
    assert "image-alt" in {f.rule for f in validators._axe(page, "u", "p", 1280)}
    assert any(f.rule.endswith("H37") for f in validators._pa11y_run(page, "u", "p"))
    failures = validators._focus(page)
    contrast = [f for f in failures if f["rule"] == "focus-indicator-contrast"]
    assert any(f["snippet"] == '<a href="#a">' and "1.38:1" in f["message"] for f in contrast), failures
    assert [f["snippet"] for f in failures if f["rule"] == "focus-indicator-missing"] == ['<button class="quiet">']
    page.set_viewport_size({"width": 320, "height": 900})
    [reflow] = validators._reflow(page, "u", "p", 320)
    assert "div.wide" in reflow.element and "de large pour 320 px" in reflow.message
    html = tmp_path / "faulty.html"
    html.write_text(FAULTY, encoding="utf-8")
    messages = [m["message"] for m in validators.vnu_messages([html])]
    assert "Duplicate ID “same”." in messages


def test_a_sound_page_passes_every_check(bare_page, tmp_path):
    page = bare_page
    page.set_content(SOUND)
    assert validators._axe(page, "u", "p", 1280) == []
    assert validators._pa11y_run(page, "u", "p") == []
    assert validators._focus(page) == []
    page.set_viewport_size({"width": 320, "height": 900})
    assert validators._reflow(page, "u", "p", 320) == []
    assert validators._focus(page) == []
    html = tmp_path / "sound.html"
    html.write_text(SOUND, encoding="utf-8")
    assert validators.vnu_messages([html]) == []
