"""What the external validators of issue 20 (RGAA 4.1: Nu Html Checker, axe) found, checked
on every page each demo role reaches: the demo data is seeded, each demo account signs in
and follows the links of its pages (a few per address pattern), and every page is parsed.

- no id used twice (WTForms' `form.csrf_token` rendered `id="csrf_token"` once per form);
- every `list=` names a <datalist> of the page;
- a required single <select> starts with an empty option (HTML, "placeholder label option");
- heading levels never skip (h1 then h3);
- every table is in a scrolling region the keyboard reaches;
- page 2 of a list has a title of its own.
"""

from __future__ import annotations

import re
from collections import Counter
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

ROLES = ["agent", "encadrant", "collectif", "animation", "rh", "admin"]
MAX_PAGES = 200
PER_PATTERN = 3  # a few objects of each kind: their states show different forms
# Links that are not pages to read: files, sign-out, and pages that act when opened.
SKIPPED = re.compile(r"^/(static|deconnexion)|\.(csv|xlsx|ics|svg|css|js)$|/export|/telecharger")


class Page(HTMLParser):
    """The facts of one page the checks need, from Python's own HTML parser."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.lists: list[str] = []
        self.links: list[str] = []
        self.headings: list[tuple[int, str]] = []
        self.selects: list[dict] = []  # each: attrs, options (value of each)
        self.wraps: list[dict] = []  # the attributes of each .table-wrap
        self.bare_tables = 0  # tables in no .table-wrap
        self._divs: list[bool] = []  # open <div>s: is it a .table-wrap?
        self._select: dict | None = None
        self._heading: list | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id") is not None:
            self.ids.append(attrs["id"])
        if tag == "input" and "list" in attrs:
            self.lists.append(attrs["list"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "div":
            is_wrap = "table-wrap" in (attrs.get("class") or "").split()
            self._divs.append(is_wrap)
            if is_wrap:
                self.wraps.append(attrs)
        if tag == "table" and not any(self._divs):
            self.bare_tables += 1
        if tag == "select":
            self._select = {"attrs": attrs, "options": []}
            self.selects.append(self._select)
        if tag == "option" and self._select is not None:
            self._select["options"].append(attrs.get("value"))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), ""]

    def handle_endtag(self, tag):
        if tag == "div" and self._divs:
            self._divs.pop()
        if tag == "select":
            self._select = None
        if re.fullmatch(r"h[1-6]", tag) and self._heading:
            self.headings.append((self._heading[0], " ".join(self._heading[1].split())[:60]))
            self._heading = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[1] += data
        # An <option> without a value attribute has its text as value.
        if self._select is not None and self._select["options"] and self._select["options"][-1] is None:
            self._select["options"][-1] = data.strip() or None


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def pattern(path: str) -> str:
    return re.sub(r"\d+", "N", path)


_crawls: dict[str, dict[str, str]] = {}


def crawl(client, role: str) -> dict[str, str]:
    """Every page (a few per address pattern) the demo account reaches by links: {path: html}.
    Kept per role for the module: the tests only read the pages."""
    if role in _crawls:
        return _crawls[role]
    from incubator.demo import DEMO_PASSWORD, seed

    seed()
    response = client.post("/connexion", data={"email": f"{role}@demo.incubateur.fr", "password": DEMO_PASSWORD})
    assert response.status_code == 303
    pages: dict[str, str] = {}
    seen: Counter = Counter()
    queue = ["/"]
    while queue and len(pages) < MAX_PAGES:
        path = queue.pop(0)
        response = client.get(path)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        html = response.get_data(as_text=True)
        pages[path] = html
        # The second page of each list, as its "Suivante" link gives it.
        following = re.search(r'<a href="([^"]+)" rel="next"', html)
        if following and "?" not in path:
            queue.insert(0, unescape(following.group(1)))
        for href in parse(html).links:
            url = urlsplit(urljoin("http://localhost" + urlsplit(path).path, href))
            if url.netloc != "localhost" or SKIPPED.search(url.path):
                continue
            # Paginated and filtered views: the first page of each list is enough here.
            key = pattern(url.path)
            if url.query or seen[key] >= PER_PATTERN or url.path in queue or url.path in pages:
                continue
            seen[key] += 1
            queue.append(url.path)
    _crawls[role] = pages
    return pages


@pytest.fixture(params=ROLES)
def pages(request, client):
    found = crawl(client, request.param)
    assert len(found) > 10, sorted(found)  # the crawl reached the role's pages
    return found


def test_no_id_is_used_twice(pages):
    problems = {path: sorted(i for i, n in Counter(parse(html).ids).items() if n > 1)
                for path, html in pages.items()}
    assert {path: ids for path, ids in problems.items() if ids} == {}


def test_every_list_attribute_names_a_datalist_of_the_page(pages):
    problems = {}
    for path, html in pages.items():
        page = parse(html)
        missing = [name for name in page.lists if name not in page.ids]
        if missing:
            problems[path] = missing
    assert problems == {}


def test_a_required_single_select_starts_with_an_empty_option(pages):
    problems = {}
    for path, html in pages.items():
        for select in parse(html).selects:
            attrs = select["attrs"]
            single = "multiple" not in attrs and int(attrs.get("size") or 1) <= 1
            if "required" in attrs and single and (not select["options"] or select["options"][0] != ""):
                problems.setdefault(path, []).append(attrs.get("name"))
    assert problems == {}


def test_heading_levels_never_skip(pages):
    problems = {}
    for path, html in pages.items():
        level = 0
        for number, title in parse(html).headings:
            if number > level + 1:
                problems.setdefault(path, []).append(f"h{level} → h{number} « {title} »")
            level = number
    assert problems == {}


def test_every_table_scrolls_in_a_region_the_keyboard_reaches(pages):
    """A table wider than a phone scrolls in its .table-wrap, which a keyboard user must be
    able to focus and scroll, and which says what it holds (RGAA 10.11, 7.3)."""
    problems = {}
    for path, html in pages.items():
        page = parse(html)
        wrong = [w.get("aria-label") for w in page.wraps
                 if not (w.get("tabindex") == "0" and w.get("role") == "region" and w.get("aria-label"))]
        if wrong or page.bare_tables:
            problems[path] = {"bare tables": page.bare_tables, "regions without focus or name": wrong}
    assert problems == {}


def title(html: str) -> str:
    return " ".join(unescape(re.search(r"<title>(.*?)</title>", html, re.S).group(1)).split())


def test_each_page_of_a_list_has_a_title_of_its_own(pages):
    """RGAA 8.6: page 2 of the board is not titled like page 1."""
    seconds = {path: html for path, html in pages.items() if "page=2" in path}
    assert seconds  # every role reads at least the board's second page in the demo
    for path, html in seconds.items():
        first = title(pages[urlsplit(path).path])
        assert title(html) != first, path
        assert re.search(r" — page 2 sur \d+ · ", title(html)), title(html)
        assert "page" not in first.split(" · ")[0], first


def test_the_checks_find_what_they_look_for():
    """The parser itself: each defect is seen on a small page."""
    page = parse('<h1>A</h1><h3>B</h3><input id="x"><input id="x" list="nope">'
                 '<select required name="s"><option value="1">Un</option></select>'
                 '<select required name="t"><option value="">—</option></select>')
    assert [n for n, c in Counter(page.ids).items() if c > 1] == ["x"]
    assert page.lists == ["nope"] and page.headings == [(1, "A"), (3, "B")]
    assert [s["options"][0] for s in page.selects] == ["1", ""]
    page = parse('<div class="table-wrap"><div></div><table></table></div><table></table>')
    assert page.bare_tables == 1 and page.wraps == [{"class": "table-wrap"}]
