"""Every form of the application, sent empty by each demo role: when it is refused (422),
its page (or htmx fragment) has the error summary at the top, a link for every field in
error leading to an existing control, and a title starting with "Erreur : " (RGAA 11.10)."""

import html
import re
from collections import Counter, deque
from urllib.parse import urlsplit

from tests.helpers import text

ROLES = ("agent", "encadrant", "collectif", "animation", "rh", "admin")
PAGES_PER_ROLE = 60
# The main addresses (DESIGN.md 4.7), then what their links lead to.
START = ["/", "/propositions/nouvelle", "/propositions/nouvelle-offre", "/mes-propositions", "/realisations",
         "/arbitrage/seances", "/arbitrage/a-evaluer", "/immersions", "/mon-temps", "/validations",
         "/mon-compte", "/notifications/preferences", "/admin/"]
# Leaving, downloading, or pages that only repeat others with another filter.
SKIPPED = re.compile(r"^/(deconnexion|static/|connexion/oidc)|[?&](format|page|semaine|annee)=|\.(csv|xlsx)$")
NOT_SENT = ("/deconnexion",)

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
ATTR = re.compile(r'([\w:-]+)="([^"]*)"')


def attributes(tag: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in ATTR.findall(tag)}


def post_forms(page: str, path: str) -> list[tuple[str, dict[str, str], bool]]:
    """(action, hidden values and first button, whether htmx sends it as a fragment request)."""
    found = []
    for tag, body in FORM.findall(page):
        attrs = attributes(tag)
        action = attrs.get("data-hx-post") or attrs.get("action") or path
        if attrs.get("method", "get").lower() != "post" and "data-hx-post" not in attrs:
            continue
        data = {}
        for input_tag in re.findall(r"<input\b[^>]*>", body):
            values = attributes(input_tag)
            if values.get("type") == "hidden" and values.get("name") and values["name"] != "csrf_token":
                data[values["name"]] = values.get("value", "")
        button = re.search(r"<button\b[^>]*>", body)
        if button:
            values = attributes(button.group(0))
            if values.get("name"):
                data[values["name"]] = values.get("value", "")
        found.append((action, data, "data-hx-post" in attrs or "data-hx-target" in attrs))
    return found


def refusal_problems(page: str, fragment: bool) -> list[str]:
    """What a refused form's answer lacks (empty: all is well)."""
    problems = []
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    if not (title and html.unescape(title.group(1)).startswith("Erreur : ")):
        problems.append("title without « Erreur : »")
    if fragment and not page.lstrip().startswith("<title>"):
        problems.append("fragment without its <title> first")
    summary = re.search(r'<div class="error-summary" id="[^"]*" tabindex="-1" data-error-summary>(.*?)</div>\s*</div>',
                        page, re.S)
    if not summary or "Le formulaire contient" not in summary.group(1):
        return [*problems, "no error summary"]
    ids = set(re.findall(r'\sid="([^"]+)"', page))
    links = re.findall(r'<a href="#([^"]+)">', summary.group(1))
    problems += [f"link to a missing id #{link}" for link in set(links) - ids]
    # Every message drawn next to a field is in the summary, with a link to its control.
    problems += [f"{field_id} not in the summary"
                 for field_id in re.findall(r'class="field-errors" id="([^"]+)-errors"', page)
                 if not any(link == field_id or link.startswith(f"{field_id}-") for link in links)]
    return problems


def test_every_refused_form_has_its_summary_and_error_title(client):
    from incubator.demo import DEMO_PASSWORD, seed

    seed()
    refused, problems = set(), {}
    for role in ROLES:
        client.post("/deconnexion")
        assert client.post("/connexion", data={"email": f"{role}@demo.incubateur.fr",
                                               "password": DEMO_PASSWORD}).status_code == 303
        seen, queue, forms, shapes = set(), deque(START), {}, Counter()
        while queue and len(seen) < PAGES_PER_ROLE:
            path = queue.popleft()
            shape = re.sub(r"\d+", "N", path)
            if path in seen or shapes[shape] >= 2:  # two of a kind show its forms
                continue
            seen.add(path)
            shapes[shape] += 1
            response = client.get(path)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            page = response.get_data(as_text=True)
            for action, data, fragment in post_forms(page, path):
                # One form of each kind (the same form for another object adds nothing).
                forms.setdefault(re.sub(r"/\d+", "/N", action), (action, data, fragment, path))
            for href in re.findall(r'href="(/[^"#]*)"', page):
                href = html.unescape(href)
                if not SKIPPED.search(href) and href not in seen:
                    queue.append(href)
        for action, data, fragment, page_path in forms.values():
            if urlsplit(action).path in NOT_SENT:
                continue
            headers = {"HX-Request": "true", "HX-Current-URL": page_path} if fragment else {}
            response = client.post(action, data=data, headers=headers)
            if response.status_code != 422:
                continue
            refused.add(urlsplit(action).path)
            if found := refusal_problems(text(response), fragment):
                problems[f"{role} {action} (from {page_path})"] = found
            if fragment:  # the same form without JavaScript: the whole page
                response = client.post(action, data=data)
                if found := refusal_problems(text(response), False):
                    problems[f"{role} {action} without htmx ({response.status_code})"] = found
    assert problems == {}, "\n".join(f"{where}: {found}" for where, found in problems.items())
    # The walk reached the forms of every area (not a test that passes by seeing nothing).
    areas = {path.split("/")[1] for path in refused}
    assert {"propositions", "admin", "arbitrage", "projets", "mon-compte"} <= areas, sorted(refused)
