"""The three documents an administration files, printed by Chromium to PDF at A4: the
signature block (« Fait à …, le … » and every signatory) is never split across two pages,
even when it falls at the foot of a page (without `break-inside: avoid` these tests fail),
and every page carries its number (« Page 1 sur
2 », drawn by the @page margin boxes of static/css/app.css).

The PDF's text is read with `pdftotext` (Debian's poppler-utils, which make test installs);
without it the test is skipped, saying so, except in CI where it fails."""

import os
import re
import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e

A4_CONTENT_HEIGHT_PX = (297 - 18 - 20) * 96 / 25.4  # the page minus the @page margins
A4_CONTENT_WIDTH_PX = round((210 - 16 - 16) * 96 / 25.4)


def _pages(pdf_path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return text.split("\f")[:-1]  # one form feed after each page


def _print_with_block_at_page_foot(page, tmp_path, name: str):
    """Put the signature block at the foot of the first page, where an unprotected block
    would be cut in two: right under the letterhead, after a spacer that leaves 60 px for it
    (room for « Fait à … », not for the signatures).
    (Lower down, the content's own break rules move the page ends by more than that.)
    Then print to PDF at A4."""
    page.set_viewport_size({"width": A4_CONTENT_WIDTH_PX, "height": 900})
    page.emulate_media(media="print")
    page.evaluate("""(pageHeight) => {
        const block = document.querySelector('.signature-block');
        const letterhead = document.querySelector('.letterhead');
        const spacer = document.createElement('div');
        letterhead.after(spacer, block);
        const top = block.getBoundingClientRect().top + window.scrollY;  // its text, below its margin
        spacer.style.height = (pageHeight - 60 - top) + 'px';
    }""", A4_CONTENT_HEIGHT_PX)
    path = tmp_path / f"{name}.pdf"
    page.pdf(path=str(path), format="A4", prefer_css_page_size=True)
    return path


def _check(pdf_path, signatories: list[str], place: str) -> None:
    assert pdf_path.read_bytes().startswith(b"%PDF")
    pages = _pages(pdf_path)
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} sur {len(pages)}" in text, text[-300:]
    with_block = [n for n, text in enumerate(pages) if "Fait à" in text]
    assert len(with_block) == 1, "« Fait à » on several pages"
    block_page = " ".join(pages[with_block[0]].split())
    assert re.search(rf"Fait à {re.escape(place)}, le \d+(er)? \w+ \d{{4}}", block_page), block_page
    for words in signatories:
        assert " ".join(words.split()) in block_page, (words, block_page)
    # Placed at the foot of a page, the block went whole to the next one, which it opens.
    lines = [line.strip() for line in pages[with_block[0]].splitlines() if line.strip()]
    assert with_block[0] > 0 and lines[0].startswith("Fait à"), lines[:3]


@pytest.fixture(autouse=True)
def pdftotext():
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):  # make test installs it (scripts/system-deps.sh)
            pytest.fail("pdftotext absent (paquet Debian poppler-utils) : scripts/system-deps.sh l'installe")
        pytest.skip("pdftotext absent (paquet Debian poppler-utils) : le texte du PDF ne peut être lu")


def test_mission_letter_prints_with_its_signatures_on_one_page(page, tmp_path):
    login(page, "rh@demo.incubateur.fr")
    page.goto("/realisations")
    page.get_by_role("link", name="Une matinée d'accueil commune pour les nouveaux agents").click()
    page.get_by_role("link", name="Version imprimable").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lettre de mission")
    assert_accessible(page)
    names = page.locator(".signature-block .signature-role").all_inner_texts()
    assert names[:2] == ["Le ou la commanditaire", "Le ou la chef·fe de projet"] and len(names) > 3
    pdf = _print_with_block_at_page_foot(page, tmp_path, "lettre-de-mission")
    _check(pdf, names, "Belleville-sur-Loire")


def test_engagement_record_prints_with_its_signatures_on_one_page(page, tmp_path):
    login(page, "agent@demo.incubateur.fr")
    page.goto("/mon-engagement")
    expect(page.locator(".signature-block")).to_contain_text("Karim Benali")  # the N+1
    pdf = _print_with_block_at_page_foot(page, tmp_path, "releve")
    _check(pdf, ["L'agent", "Camille Martin", "Karim Benali"], "Belleville-sur-Loire")
    assert "Mon engagement" not in "".join(_pages(pdf))  # the page's heading is not printed: the letterhead is


def test_immersion_agreement_prints_with_its_signatures_on_one_page(page, tmp_path):
    login(page, "rh@demo.incubateur.fr")
    page.goto("/realisations")
    page.get_by_role("link", name=re.compile(r"^Immersion de ")).first.click()
    page.get_by_role("link", name=re.compile(r"^(Fiche d'immersion interne|Convention d'immersion)$")).click()
    expect(page.locator(".signature-block")).to_contain_text("Fait à")
    names = page.locator(".signature-block .signature-role").all_inner_texts()
    assert "L'agent" in names and len(names) == 3
    pdf = _print_with_block_at_page_foot(page, tmp_path, "convention")
    _check(pdf, names, "Belleville-sur-Loire")
