"""Templates never test roles or states themselves (DESIGN.md, « One rule, one place »): a
button asks the domain's policy (a `can_<action>` value from the view, `may_open` for a
page reserved to some roles) and a state is read from its lifecycle table (a badge's
`state_info`, a model property such as `item.is_voting`). This guard reads every template
and names, file:line, each role test and each comparison of a state with a state name.

One pattern is allowed, narrowly: a filter dropdown marking its selected option,
`<option value="x"{% if filters.status == 'x' %} selected{% endif %}>`: the filter's value
compared with the option's own code, which is no rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

LITERAL = r"""(['"])[\w-]*\1"""
LITERALS = rf"[\(\[]\s*{LITERAL}"  # a tuple or list of names: ('a', 'b')
FORBIDDEN = [
    ("role test", re.compile(r"\bhas_role\s*\(|['\"]\w+['\"]\s+(?:not\s+)?in\s+[\w.]*\brole")),
    ("state compared with a name", re.compile(rf"\.(?:state|status)\s*(?:==|!=)\s*{LITERAL}")),
    ("state compared with a name", re.compile(rf"{LITERAL}\s*(?:==|!=)\s*[\w.]+\.(?:state|status)\b")),
    ("state tested against names", re.compile(rf"\.(?:state|status)\s+(?:not\s+)?in\s+{LITERALS}")),
    ("state filtered by name", re.compile(r"(?:select|reject)attr\(\s*['\"](?:state|status)['\"]")),
]
# The filter dropdown: the comparison marks the <option> whose value is the same literal.
FILTER_OPTION = re.compile(r"""<option value="(?P<code>[\w-]*)"\{%-?\s*if\s+filters\.\w+\s*==\s*(['"])(?P=code)\2\s*-?%\}\s*selected""")


def violations(text: str, name: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        allowed = [m.span() for m in FILTER_OPTION.finditer(line)]
        for what, pattern in FORBIDDEN:
            for match in pattern.finditer(line):
                if any(start <= match.start() < end for start, end in allowed):
                    continue
                found.append(f"{name}:{number}: {what}: {match.group(0)!r}")
    return found


def test_templates_ask_the_policy_and_the_lifecycle_tables():
    found = [v for path in sorted(TEMPLATES.rglob("*.html"))
             for v in violations(path.read_text(encoding="utf-8"), str(path.relative_to(TEMPLATES.parent)))]
    assert not found, ("Templates test roles or states themselves; ask the domain's policy "
                       "(can_<action>, may_open) or the lifecycle table instead:\n" + "\n".join(found))


@pytest.mark.parametrize("planted", [
    "{% if current_user.has_role('admin') %}",
    "{% if 'coordinator' in current_user.role_names %}",
    "{% if project.state == 'on_hold' %}",
    "{% if item.status != \"voting\" %}",
    "{% if 'voting' == item.status %}",
    "{% elif proposal.state not in ('in_review', 'scheduled') %}",
    "{% if item.status in ['pending', 'voting'] %}",
    "{% for e in entries | selectattr('status', 'equalto', 'refused') %}",
    # A filter compared with a literal outside its own <option> is a rule test too.
    "{% if filters.status == 'active' %}<p>Actifs seulement</p>{% endif %}",
])
def test_the_guard_names_a_planted_test(planted):
    found = violations(f"<p>avant</p>\n{planted}\n", "planted.html")
    assert found and all(v.startswith("planted.html:2: ") for v in found), found


@pytest.mark.parametrize("allowed", [
    """<option value="active"{% if filters.status == 'active' %} selected{% endif %}>Actifs</option>""",
    """{% for code, s in states.items() %}<option value="{{ code }}"{% if filters.state == code %} selected{% endif %}>""",
    "{% if view.my_vote and view.my_vote.choice == code %}",
    "{% if item.is_voting %}{{ item.status_info.badge }}{% endif %}",
    "{% if may_open('admin.index') %}",
])
def test_the_guard_lets_the_filter_dropdown_and_questions_through(allowed):
    assert violations(allowed, "allowed.html") == []
