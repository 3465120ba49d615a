"""The external validators of issue 20 (RGAA), run on each page a browser journey checks with
`assert_accessible(page)`, for the role signed in:

- axe-core (WCAG 2.1 A and AA tags) at 1280 px and at 320 px;
- pa11y, HTML_CodeSniffer runner, standard WCAG2AA, errors only: pa11y's own page scripts
  (tests/e2e/validators/pa11y-bundle.cjs builds them from its modules) run in the page as the
  journey left it, in Debian's Chromium;
- reflow at 320 px: the document no wider than the viewport, naming the elements that overflow;
- focus indicators: each focusable element focused the keyboard way, its outline or
  box-shadow at least 3:1 against the background behind it (tests/e2e/browser_checks.js);
- the Nu Html Checker (vnu.jar, Java) on the HTML the server sent for each page, in one Java
  run at the end of the session (with xdist, in the controller once the workers are done).

Each check collects its findings: a test fails at its end with all the findings of its pages,
and the session ends with the whole list, by rule, in the terminal and in
test-artifacts/validators/report.txt. INCUBATEUR_VALIDATORS=report lists without failing.
A page is checked once per role and state: same address, same signed-in person, same shape.
The tools are installed by scripts/validators.sh (called here if they are missing); a missing
tool fails the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
TOOLS = HERE / "validators" / "node_modules"
# INCUBATEUR_VALIDATORS_DIR: another folder, for two runs at once (each empties its own).
OUTPUT = Path(os.environ.get("INCUBATEUR_VALIDATORS_DIR") or ROOT / "test-artifacts" / "validators")
REPORT_ONLY = os.environ.get("INCUBATEUR_VALIDATORS", "") == "report"
AXE_SOURCE = (HERE / "vendor" / "axe.min.js").read_text(encoding="utf-8")
CHECKS_SOURCE = (HERE / "browser_checks.js").read_text(encoding="utf-8")
WIDE, NARROW = 1280, 320
AXE_RUN = """async () => {
    const r = await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
    return r.violations.map(v => ({id: v.id, help: v.help,
        nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html}))}));
}"""


@dataclass(frozen=True)
class Finding:
    tool: str       # "axe 1280px", "pa11y", "vnu", "reflow 320px", "focus 1280px"…
    rule: str
    url: str
    user: str
    element: str    # selector, snippet, or the line of the served HTML
    message: str

    def line(self) -> str:
        return f"[{self.tool}] {self.rule} : {self.message}\n      élément : {self.element}"


def _short(text: str, size: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


# -- Tools ----------------------------------------------------------------------------------

_pa11y: dict | None = None


def ensure_tools() -> None:
    """The npm packages (installed if missing) and Java; fails, never skips, without them."""
    if not (TOOLS / "pa11y").exists() or not (TOOLS / "vnu-jar").exists():
        subprocess.run(["bash", str(ROOT / "scripts" / "validators.sh")], check=True)
    if shutil.which("java") is None:
        raise RuntimeError("java est introuvable : installez default-jre-headless (scripts/system-deps.sh).")


def pa11y_bundle() -> dict:
    global _pa11y
    if _pa11y is None:
        ensure_tools()
        out = subprocess.run(["node", str(HERE / "validators" / "pa11y-bundle.cjs")], cwd=HERE / "validators",
                             check=True, capture_output=True, text=True).stdout
        _pa11y = json.loads(out)
    return _pa11y


def vnu_jar() -> Path:
    ensure_tools()
    return TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"


# -- State of the run -----------------------------------------------------------------------

_seen: set[tuple] = set()
_current: list[Finding] = []   # the findings of the running test
_recorded_html: set[str] = set()
_time_spent = [0.0]  # seconds in the in-browser checks, said in the report


def worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def start_test() -> None:
    _current.clear()


def findings_of_test() -> list[Finding]:
    return list(_current)


def _record(findings: list[Finding]) -> None:
    _current.extend(findings)
    if findings:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        with open(OUTPUT / f"findings-{worker_id()}.jsonl", "a", encoding="utf-8") as out:
            for f in findings:
                out.write(json.dumps(asdict(f), ensure_ascii=False) + "\n")


def reset_output() -> None:
    """At the start of a session (the controller's, with xdist): an empty output folder."""
    shutil.rmtree(OUTPUT, ignore_errors=True)
    (OUTPUT / "html").mkdir(parents=True)


# -- Following a page -----------------------------------------------------------------------

def follow(page) -> None:
    """Keeps the last whole page the server sent to `page`: a navigation, or an htmx boosted
    request (whose answer is the whole page too; htmx fragments are left out)."""
    page.served_page = None

    def on_response(response):
        request = response.request
        if response.frame != page.main_frame:
            return
        boosted = request.resource_type in ("xhr", "fetch") and request.headers.get("hx-boosted") == "true"
        if request.resource_type == "document" or boosted:
            if "text/html" in (response.headers.get("content-type") or "") and not 300 <= response.status < 400:
                page.served_page = response

    page.on("response", on_response)


def _user(page) -> str:
    """The person signed in, as the header names them (however they signed in)."""
    name = page.evaluate("() => document.querySelector('.user-name')?.textContent.trim() || ''")
    return name or "anonyme"


def _shape(page) -> str:
    """The page's structure (tags, ids, classes, types, states), not its words: two visits
    of one address showing the same structure are checked once."""
    shape = page.evaluate("""() => [...document.body.querySelectorAll('*')].map(e =>
        e.tagName + '#' + e.id + '.' + e.className + '/' + (e.getAttribute('type') || '')
        + (e.hasAttribute('open') ? '!' : '') + (e.getAttribute('aria-invalid') || '')).join(' ')""")
    return hashlib.sha256(shape.encode()).hexdigest()[:16]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# -- The checks of one page -----------------------------------------------------------------

def check_page(page) -> list[Finding]:
    """All the in-browser checks of `page` as it is now, and its served HTML kept for the Nu
    Html Checker; the findings are recorded (and returned). The page is left as found: same
    viewport, same focus, same scroll."""
    started = time.monotonic()
    try:
        return _check_page(page)
    finally:
        _time_spent[0] += time.monotonic() - started


def _check_page(page) -> list[Finding]:
    # The address without the live server's port, which changes with each run and worker.
    url, user = _path(page.url), _user(page)
    key = (user, url, _shape(page))
    if key in _seen:
        return []
    _seen.add(key)
    findings: list[Finding] = []
    focus: dict[int, list[dict]] = {}
    _keep_served_html(page, url, user, findings)
    size = page.viewport_size or {"width": WIDE, "height": 900}
    focused = page.evaluate_handle("() => document.activeElement")
    try:
        for width in (WIDE, NARROW):
            if (page.viewport_size or {}).get("width") != width:
                page.set_viewport_size({"width": width, "height": size["height"]})
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            findings += _axe(page, url, user, width)
            if width == WIDE:
                findings += _pa11y_run(page, url, user)
            else:
                findings += _reflow(page, url, user, width)
            focus[width] = _focus(page)
    finally:
        if page.viewport_size != size:
            page.set_viewport_size(size)
        _restore_focus(page, focused)
    findings += _focus_findings(focus, url, user)
    unique = list(dict.fromkeys(findings))
    _record(unique)
    return unique


def _axe(page, url, user, width) -> list[Finding]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    return [Finding(f"axe {width}px", v["id"], url, user, f"{n['target']} — {_short(n['html'], 160)}", v["help"])
            for v in page.evaluate(AXE_RUN) for n in v["nodes"]]


def _pa11y_run(page, url, user) -> list[Finding]:
    bundle = pa11y_bundle()
    if not page.evaluate("() => typeof window.__pa11y !== 'undefined' && 'htmlcs' in window.__pa11y.runners"):
        # Ends with a value that is no function: Playwright would call it.
        page.evaluate(bundle["script"] + "\n;true;")
    result = page.evaluate("options => window.__pa11y.run(options)", bundle["options"])
    return [Finding("pa11y", issue["code"], url, user,
                    f"{issue['selector']} — {_short(issue['context'], 160)}", _short(issue["message"], 300))
            for issue in result["issues"] if issue["type"] == "error"]


def _reflow(page, url, user, width) -> list[Finding]:
    _inject_checks(page)
    result = page.evaluate("() => window.__incubateurChecks.reflow()")
    if result is None:
        return []
    elements = "; ".join(f"{e['selector']} (bord droit à {e['right']} px) — {e['snippet']}"
                         for e in result["elements"]) or "aucun élément isolé"
    return [Finding(f"reflow {width}px", "reflow-320", url, user, elements,
                    f"la page fait {result['width']} px de large pour {result['viewport']} px de fenêtre")]


def _focus(page) -> list[dict]:
    _inject_checks(page)
    # Tab once: the keyboard becomes the last input, so focus() shows :focus-visible as
    # tabbing does (the check then blurs everything).
    page.keyboard.press("Tab")
    return page.evaluate("() => window.__incubateurChecks.focus()")["failures"]


def _focus_findings(by_width: dict[int, list[dict]], url, user) -> list[Finding]:
    """One finding per rule and measure (a site-wide outline colour fails the same way on
    every link): the elements listed, each once, with the widths where it fails."""
    groups: dict[tuple[str, str], dict[str, list[int]]] = {}
    for width, failures in by_width.items():
        for f in failures:
            elements = groups.setdefault((f["rule"], f["message"]), {})
            elements.setdefault(f"{f['selector']} — {f['snippet']}", []).append(width)
    findings = []
    for (rule, message), elements in groups.items():
        listed = [f"{element} ({'/'.join(map(str, widths))} px)" for element, widths in elements.items()]
        shown = listed[:6] + ([f"… et {len(listed) - 6} autre(s)"] if len(listed) > 6 else [])
        findings.append(Finding("focus", rule, url, user, "\n        ".join(shown),
                                f"{message} ({len(listed)} élément(s))"))
    return findings


def _restore_focus(page, focused) -> None:
    """The focus back where the journey left it, so its next Tab goes where it would have:
    on the element that had it, or (nothing focused) at the start of the page, through a
    temporary element focused then removed (where Tab starts again)."""
    focused.evaluate("""element => {
        if (element && element !== document.body && element.isConnected) {
            element.focus({preventScroll: true});
            return;
        }
        const start = document.createElement('span');
        start.tabIndex = -1;
        document.body.prepend(start);
        start.focus({preventScroll: true});
        start.remove();
    }""")
    focused.dispose()


def _inject_checks(page) -> None:
    if not page.evaluate("() => typeof window.__incubateurChecks !== 'undefined'"):
        page.evaluate(CHECKS_SOURCE)


def _keep_served_html(page, url, user, findings) -> None:
    response = getattr(page, "served_page", None)
    if response is None:
        return
    try:
        body = response.body()
    except Exception:  # noqa: BLE001 — the browser no longer holds it: said, not hidden
        findings.append(Finding("vnu", "html-indisponible", url, user, "", "HTML servi introuvable dans le navigateur"))
        return
    if not body.lstrip()[:15].lower().startswith(b"<!doctype"):
        return
    digest = hashlib.sha256(body).hexdigest()[:20]
    if digest in _recorded_html:
        return
    _recorded_html.add(digest)
    html_dir = OUTPUT / "html"
    html_dir.mkdir(parents=True, exist_ok=True)
    (html_dir / f"{digest}.html").write_bytes(body)
    (html_dir / f"{digest}.json").write_text(json.dumps({"url": _path(response.url), "user": user}),
                                             encoding="utf-8")


# -- End of the session ---------------------------------------------------------------------

def run_vnu() -> list[Finding]:
    """The Nu Html Checker on every page kept, in one Java run; its errors as findings."""
    html_dir = OUTPUT / "html"
    files = sorted(html_dir.glob("*.html")) if html_dir.exists() else []
    if not files:
        return []
    messages = vnu_messages(files)
    findings = []
    for m in messages:
        if m.get("type") != "error":
            continue
        name = Path(urlsplit(m.get("url", "")).path).name
        meta_file = html_dir / name.replace(".html", ".json")
        meta = json.loads(meta_file.read_text()) if meta_file.exists() else {"url": name, "user": "?"}
        where = f"ligne {m.get('lastLine', '?')} — {_short(m.get('extract', ''), 160)}"
        findings.append(Finding("vnu", _vnu_rule(m["message"]), meta["url"], meta["user"], where,
                                _short(m["message"], 300)))
    return findings


def vnu_messages(files: list[Path]) -> list[dict]:
    """The Nu Html Checker's errors on `files`, in one Java run (its JSON messages)."""
    result = subprocess.run(["java", "-jar", str(vnu_jar()), "--errors-only", "--format", "json",
                             "--exit-zero-always", *map(str, files)], capture_output=True, text=True)
    try:
        return json.loads(result.stderr or result.stdout)["messages"]
    except (ValueError, KeyError) as error:
        raise RuntimeError(f"Nu Html Checker : réponse illisible ({error}) :\n{result.stderr[-2000:]}") from error


def _vnu_rule(message: str) -> str:
    """vnu has no rule ids: its message names the rule (long quoted values shortened)."""
    return _short(re.sub(r"“[^”]{30,}”", "“…”", message), 120)


def all_findings() -> list[Finding]:
    found = []
    for path in sorted(OUTPUT.glob("findings-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            found.append(Finding(**json.loads(line)))
    return list(dict.fromkeys(found))


def report(findings: list[Finding], pages: int, seconds: float | None = None) -> str:
    """The whole list, by page, then the count by tool and rule."""
    spent = f" ({seconds:.0f} s de vérifications dans le navigateur, tous processus)" if seconds is not None else ""
    lines = [f"Validateurs (axe 1280/320, pa11y, Nu Html Checker, reflow 320, focus) : "
             f"{len(findings)} problème(s) sur {pages} page(s) vérifiée(s){spent}."]
    by_page: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        by_page.setdefault((f.url, f.user), []).append(f)
    for (url, user), items in sorted(by_page.items()):
        lines.append(f"\n== {url} ({user})")
        lines += [f"  {f.line()}" for f in items]
    if findings:
        lines.append("\nPar règle :")
        counts = Counter((f.tool.split()[0], f.rule) for f in findings)
        lines += [f"  {n:4d}  {tool} {rule}" for (tool, rule), n in sorted(counts.items(), key=lambda i: -i[1])]
    return "\n".join(lines)


def checked_pages() -> tuple[int, float]:
    """Pages checked and seconds spent, over all the processes of the run."""
    pages, seconds = 0, 0.0
    for path in OUTPUT.glob("pages-*.json") if OUTPUT.exists() else []:
        data = json.loads(path.read_text())
        pages, seconds = pages + data["pages"], seconds + data["seconds"]
    return pages, seconds


def save_page_count() -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / f"pages-{worker_id()}.json").write_text(json.dumps({"pages": len(_seen), "seconds": _time_spent[0]}))
