"""RGAA 4.1 findings of issue 20, checked in the browser on the demo:

- reflow (RGAA 10.11): at 320 px no page any role reaches is wider than the screen, and the
  widest element is named when one is;
- focus (RGAA 10.7, WCAG 1.4.11): the focus indicator contrasts 3:1 with what surrounds it,
  on every control reached with Tab, whatever the institution's accent colour;
- layout shift on phones (390 px): the pages people open first do not move as they load.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urljoin, urlsplit

import pytest

from .conftest import login, open_page

pytestmark = pytest.mark.e2e

ROLES = ["agent", "encadrant", "collectif", "animation", "rh", "admin"]
PER_PATTERN = 2  # a couple of objects of each kind: their states show different parts
MAX_PAGES = 90
SKIPPED = re.compile(r"^/(static|deconnexion)|\.(csv|xlsx|ics|svg|css|js)$|/export|/telecharger")
# Links with a query string that lead to other layouts: another week, a list's next page.
FOLLOWED_QUERIES = re.compile(r"^(semaine=[\d-]+|page=2)$")

WIDEST = """() => {
  let worst = null, right = 0;
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    // The deepest element reaching furthest right: not a parent merely containing it.
    if (r.right > right + 0.5 || (worst && worst.contains(el) && r.right >= right - 0.5)) { right = r.right; worst = el; }
  }
  if (!worst) return '';
  const path = [];
  for (let e = worst; e && e !== document.body; e = e.parentElement)
    path.unshift(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                 + (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\\s+/).join('.') : ''));
  return Math.round(right) + ' px : ' + path.slice(-4).join(' > ') + ' « ' + (worst.textContent || '').trim().slice(0, 50) + ' »';
}"""


def visit_all(page, start: str = "/"):
    """Every page reachable by links from `start` (a few per address pattern), as a generator
    of paths: the caller checks each page as it is displayed."""
    seen: Counter = Counter()
    queue, done = [start], set()
    while queue and len(done) < MAX_PAGES:
        path = queue.pop(0)
        response = page.goto(path)
        if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        done.add(path)
        yield path
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            url = urlsplit(urljoin(page.url, href))
            if url.netloc != urlsplit(page.url).netloc or SKIPPED.search(url.path):
                continue
            if url.query and not FOLLOWED_QUERIES.match(url.query):
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            key = re.sub(r"\d+", "N", target)
            if seen[key] >= PER_PATTERN or target in done or target in queue:
                continue
            seen[key] += 1
            queue.append(target)


@pytest.mark.parametrize("role", ROLES)
def test_no_page_is_wider_than_a_320_px_screen(browser, live_server, role):
    page = open_page(browser, live_server, width=320)
    login(page, f"{role}@demo.incubateur.fr")
    too_wide, visited = {}, 0
    for path in visit_all(page):
        visited += 1
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            too_wide[path] = f"{width} px ; le plus à droite : {page.evaluate(WIDEST)}"
    page.context.close()
    assert visited > 20
    assert too_wide == {}


def test_the_widest_element_is_named(browser, live_server):
    """The failure message names what overflows, not a whole column."""
    page = open_page(browser, live_server, width=320)
    page.set_content('<div><p>court</p><div><span style="display:inline-block;width:500px">large</span></div></div>')
    assert page.evaluate(WIDEST) == "508 px : div > div > span « large »"
    page.context.close()


# The focus check, in the page: for the focused element, its outline (the ring), its
# box-shadow (the halo between ring and element) and the colour behind the element.
FOCUS = """() => {
  const parse = c => { const m = c.match(/rgba?\\(([\\d.]+),\\s*([\\d.]+),\\s*([\\d.]+)(?:,\\s*([\\d.]+))?/);
    return m ? {rgb: [+m[1], +m[2], +m[3]], alpha: m[4] === undefined ? 1 : +m[4]} : null; };
  const behind = el => { for (let e = el.parentElement; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor); if (c && c.alpha > 0.5) return c.rgb; }
    return [255, 255, 255]; };
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const halo = s.boxShadow && s.boxShadow !== 'none' ? parse(s.boxShadow) : null;
  const own = parse(s.backgroundColor);
  return {name: el.tagName.toLowerCase() + ' « ' + (el.textContent || el.name || '').trim().slice(0, 40) + ' »',
          style: s.outlineStyle, width: parseFloat(s.outlineWidth), offset: parseFloat(s.outlineOffset),
          ring: parse(s.outlineColor).rgb, halo: halo && halo.alpha > 0.5 ? halo.rgb : null,
          behind: behind(el), own: own && own.alpha > 0.5 ? own.rgb : behind(el)};
}"""


def luminance(rgb) -> float:
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def focus_problem(found) -> str | None:
    """None when the indicator is visible: a solid ring of 2 px or more contrasting 3:1 with
    what is next to it, or a ring and a halo contrasting 3:1 with each other, one of which
    contrasts 3:1 with the background (WCAG technique C40, two-colour indicator)."""
    if found["style"] in ("none", "hidden") or found["width"] < 2:
        return f"pas de contour de focus ({found['style']} {found['width']} px)"
    # Next to the ring: the background behind the element (ring outside it) or the element's
    # own colour (ring drawn inside it).
    beside = found["behind"] if found["offset"] >= 0 else found["own"]
    if contrast(found["ring"], beside) >= 3:
        return None
    if found["halo"] and contrast(found["ring"], found["halo"]) >= 3 and contrast(found["halo"], beside) >= 3:
        return None
    return (f"contour {found['ring']} sur fond {beside} : {contrast(found['ring'], beside):.2f}:1"
            + (f", halo {found['halo']}" if found["halo"] else ""))


def test_the_focus_check_refuses_the_old_amber_outline():
    amber = {"style": "solid", "width": 3, "offset": 2, "ring": [240, 165, 0], "halo": None,
             "behind": [255, 255, 255], "own": [31, 95, 139]}
    assert "2.08:1" in focus_problem(amber)
    assert focus_problem({**amber, "behind": [245, 246, 247]}).endswith("1.92:1")


FOCUS_PAGES = ["/", "/propositions", "/propositions/nouvelle", "/arbitrage/seances", "/notifications"]


@pytest.mark.parametrize("accent", [None, "#ffd400", "#0a0a0a"])  # the demo's, a light one, a dark one
@pytest.mark.parametrize("width", [1280, 320])
def test_the_focus_indicator_contrasts_on_every_background(browser, live_server, accent, width):
    context = browser.new_context(base_url=live_server, locale="fr-FR", bypass_csp=True,
                                  viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    login(page, "animation@demo.incubateur.fr")
    problems, checked = {}, 0
    for path in FOCUS_PAGES:
        page.goto(path)
        if accent:  # as /theme.css sets it for an institution that chose this colour
            page.add_style_tag(content=f":root {{ --accent: {accent}; }}")
        for _ in range(30):
            page.keyboard.press("Tab")
            found = page.evaluate(FOCUS)
            if found is None:
                continue
            checked += 1
            problem = focus_problem(found)
            if problem:
                problems.setdefault(path, []).append(f"{found['name']} : {problem}")
    context.close()
    assert checked > 60
    assert problems == {}


CLS = """() => {
  window.__cls = 0;
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__cls += entry.value;
  }).observe({type: 'layout-shift', buffered: true});
}"""


@pytest.mark.parametrize("path", ["/", "/propositions", "/propositions/nouvelle"])
def test_pages_do_not_shift_as_they_load_on_a_phone(browser, live_server, path):
    page = open_page(browser, live_server, width=390)
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, "agent@demo.incubateur.fr")
    page.add_init_script(f"({CLS})()")
    page.goto(path)
    page.wait_for_load_state("networkidle")
    # The observer's last report arrives with the next frames: two animation frames on.
    shift = page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(window.__cls))))")
    page.context.close()
    assert shift < 0.1, f"{path} : décalage cumulé {shift:.3f}"
