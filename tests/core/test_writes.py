"""One way to write (web.write): every unsafe view validates its form, calls one service,
and lets web.write commit once, answer 422 with the form on ValidationFailed, and hand the
other domain errors to the handlers (403, 404, 409, with the service's message).

The guard below reads every views module (views.py, session_views.py); the helper's contract is checked on a small app of
its own; each domain's tests check its views through the test client.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import Response
from sqlalchemy import func, select
from wtforms import StringField
from wtforms.validators import DataRequired

from incubator import create_app
from incubator.errors import InvalidTransition, NotAllowed, ValidationFailed
from incubator.extensions import db
from incubator.forms import Form
from incubator.organisation.models import Institution
from incubator.web import done, request_writes, write
from tests.conftest import Client, app_config
from tests.factories import make_institution
from tests.helpers import text

PACKAGE = Path(__file__).resolve().parents[2] / "incubator"


def offences(source: str, filename: str) -> list[str]:
    """Where a view writes its own way: a commit or rollback of the session, a 422 built by
    hand (a status, an abort), a form validated outside web.write."""
    found = []
    for node in sorted((n for n in ast.walk(ast.parse(source, filename)) if hasattr(n, "lineno")),
                       key=lambda n: (n.lineno, n.col_offset)):
        where = f"{filename}:{node.lineno}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, owner = node.func.attr, node.func.value
            if method in ("commit", "rollback") and isinstance(owner, ast.Attribute) and owner.attr == "session":
                found.append(f"{where}: session.{method}() (web.write commits or rolls back)")
            elif method == "validate_on_submit":
                found.append(f"{where}: validate_on_submit() (web.write validates the form)")
        elif isinstance(node, ast.Constant) and node.value == 422 and not isinstance(node.value, bool):
            found.append(f"{where}: 422 by hand (web.write answers it on ValidationFailed)")
    return found


def test_no_view_commits_rolls_back_or_builds_a_422_itself():
    views = sorted(PACKAGE.rglob("*views.py"))
    assert len(views) >= 8, views  # the guard reads the views, wherever they move
    found = [o for path in views for o in offences(path.read_text(), str(path.relative_to(PACKAGE.parent)))]
    assert not found, "\n".join(found)


def test_the_guard_sees_each_way_of_writing_by_hand():
    source = """
def view():
    if not form.validate_on_submit():
        return render_page("x.html", status=422)
    try:
        services.act()
    except ValidationFailed:
        db.session.rollback()
        abort(422)
    db.session.commit()
    return page(status=200 if request.method == "GET" else 422)
"""
    found = offences(source, "views.py")
    assert [o.split(":")[1] for o in found] == ["3", "4", "8", "9", "10", "11"], found


# --------------------------------------------------------------------------- the helper


class NameForm(Form):
    name = StringField("Nom", validators=[DataRequired("Indiquez un nom.")])


def _add(name: str) -> Institution:
    return make_institution(name, slug=name.lower())


def _form_page(form) -> Response:
    errors = "".join(f"<li>{m}</li>" for m in form.name.errors + form.form_errors)
    return Response(f"<form><ul>{errors}</ul></form>", mimetype="text/html")


@pytest.fixture(scope="module")
def helper_app(database_url):
    """An app with a few views that write through web.write (routes must exist before
    the first request, so not on the shared test server)."""
    app = create_app(app_config(database_url))

    @app.post("/t/ajouter")
    def add():
        form = NameForm()
        return write(form, lambda: _add(form.name.data), success=lambda i: done(f"{i.name} ajoutée.", "/fait"),
                     invalid=lambda _: _form_page(form))

    @app.post("/t/refus")
    def refused():
        form = NameForm()

        def act():
            _add(form.name.data)
            raise ValidationFailed({"name": "Nom déjà pris.", "autre": "Pour tout le formulaire."})

        return write(form, act, success=lambda _: done("non", "/non"), invalid=lambda _: _form_page(form))

    @app.post("/t/garde")
    def kept():
        class Kept(ValidationFailed):
            keeps_writes = True
            status_code = 429

        def act():
            _add("Gardée")
            raise Kept({"name": "Trop de tentatives."})

        return write(None, act, success=lambda _: done("non", "/non"),
                     invalid=lambda refusal: Response(str(refusal.errors["name"])))

    @app.post("/t/<any(interdit, conflit, invalide):case>")
    def error(case: str):
        def act():
            _add("Jamais")
            if case == "interdit":
                raise NotAllowed("Réservé à l'animation.")
            if case == "conflit":
                raise InvalidTransition("Déjà clos.")
            raise ValidationFailed({"name": "Rien à montrer."}, "Aucun formulaire à réafficher.")

        return write(None, act, success=lambda _: done("non", "/non"))

    @app.post("/t/<any(relire, telquel):when>")
    def moment(when: str):
        def answer(institution):
            name = institution.name  # expired by the commit, unless kept loaded
            return Response(f"{name} {db.session().in_transaction()} {request_writes()}")

        return write(None, lambda: _add("Moment"), success=answer, keep_loaded=when == "telquel")

    app.test_client_class = Client
    return app


def _institutions() -> list[str]:
    return list(db.session.scalars(select(Institution.name).order_by(Institution.name)))


def test_success_commits_once_then_answers_303_or_hx_redirect(helper_app):
    client = helper_app.test_client()
    response = client.post("/t/ajouter", data={"name": "Brest"})
    assert (response.status_code, response.headers["Location"]) == (303, "/fait")
    assert _institutions() == ["Brest"]
    response = client.post("/t/ajouter", data={"name": "Quimper"}, headers={"HX-Request": "true"})
    assert (response.status_code, response.headers["HX-Redirect"]) == (204, "/fait")
    assert _institutions() == ["Brest", "Quimper"]


def test_form_refused_by_its_validators_answers_422_and_runs_nothing(helper_app):
    response = helper_app.test_client().post("/t/ajouter", data={"name": ""})
    assert response.status_code == 422 and "Indiquez un nom." in text(response)
    assert _institutions() == []


def test_validation_failed_rolls_back_and_puts_the_messages_on_the_form(helper_app):
    response = helper_app.test_client().post("/t/refus", data={"name": "Vannes"})
    assert response.status_code == 422
    assert "<li>Nom déjà pris.</li><li>Pour tout le formulaire.</li>" in text(response)
    assert _institutions() == []  # flushed by the service, then rolled back


def test_a_refusal_that_keeps_its_writes_is_committed_with_its_own_status(helper_app):
    response = helper_app.test_client().post("/t/garde")
    assert response.status_code == 429 and "Trop de tentatives." in text(response)
    assert _institutions() == ["Gardée"]


@pytest.mark.parametrize("case, status, message", [
    ("interdit", 403, "Réservé à l'animation."),
    ("conflit", 409, "Déjà clos."),
    ("invalide", 422, "Aucun formulaire à réafficher."),  # no form to show again: the error page says why
])
def test_domain_errors_reach_their_handler_rolled_back_with_the_services_message(helper_app, case, status, message):
    response = helper_app.test_client().post(f"/t/{case}")
    assert response.status_code == status and message in text(response)
    assert _institutions() == []


def test_the_answer_is_built_after_the_commit_outside_the_write_transaction(helper_app):
    client = helper_app.test_client()
    # Read again in a transaction of its own, which no longer takes the write lock.
    assert text(client.post("/t/relire")) == "Moment True False"
    db.session.execute(db.delete(Institution))
    # Kept loaded: the answer reads nothing again.
    assert text(client.post("/t/telquel")) == "Moment False False"
    assert db.session.scalar(select(func.count()).select_from(Institution)) == 1
