"""Request helpers shared by every blueprint: htmx fragments, errors, pagination, scoping."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from flask import (
    Flask,
    Response,
    abort,
    before_render_template,
    current_app,
    flash,
    g,
    has_app_context,
    redirect,
    render_template,
    request,
    template_rendered,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from . import timeutil
from .dbutil import MAX_ID
from .errors import WHOLE_FORM, DomainError, ValidationFailed
from .extensions import db, login_manager
from .forms import add_service_errors, error_dict_items, form_error_items
from .observability import logged_path, note_user, request_id
from .pagination import list_page_title
from .text import badge, decimal_fr, linkify

M = TypeVar("M")
R = TypeVar("R")


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def request_writes() -> bool:
    """Whether the current request may write: an unsafe method that passed the checks made
    before its view (routing, CSRF). Such a request takes SQLite's write lock when its
    transaction starts; any other request must not take it (see incubator/__init__.py).
    Asked of the application context, where `g` lives: the request's writes made after its
    page (release_connection) run once the request context is gone."""
    return has_app_context() and g.get("writes", False)


def writes_from_here() -> None:
    """A GET that writes (the return from a single sign-on provider): from here on, the
    request is a writer, as an unsafe request is from its view (see mark_write_requests)."""
    if db.session().in_transaction():
        db.session.rollback()  # nothing written yet: start again as a writer
    g.writes = True


@contextmanager
def writing_apart():
    """A request that reads writes a little in a transaction of its own (the audit row of an
    HR read, a session refreshed after the page): on SQLite, that transaction takes the
    writers' gate and the write lock up front, as a writing request's does (see
    incubator/__init__.py), and waits its turn among the writers. Started as a read, it would
    only find the lock taken when it writes, and poll SQLite's busy handler (sleeps of 1 to
    100 ms) instead of being handed the lock as soon as the writer before it commits."""
    if not has_app_context():
        yield
        return
    before = g.get("writes", False)
    g.writes = True
    try:
        yield
    finally:
        g.writes = before


def after_request_transaction(work) -> None:
    """Run `work()` (a small write for the request, such as refreshing the session) once
    the request's own transaction is over: in it when the request writes, after it
    (in a transaction of its own, on the same pooled connection) when it only reads. A
    request so never holds two connections, and a read never waits for the write lock
    while holding a snapshot."""
    if request_writes():
        work()
    else:
        g.setdefault("after_transaction", []).append(work)


def is_htmx() -> bool:
    """An htmx request for a fragment. Boosted links and history restores want the
    whole page, like a plain request."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and not headers.get("HX-Boosted")
        and not headers.get("HX-History-Restore-Request")
    )


def render_block(template_name: str, block_name: str, **context: Any) -> str:
    """Render one named block of a page template (htmx 'template fragments')."""
    app = current_app._get_current_object()
    app.update_template_context(context)
    template = app.jinja_env.get_template(template_name)
    # The signals Flask's render_template sends, so that a fragment is timed like a page
    # (see instrumentation.py).
    before_render_template.send(app, template=template, context=context)
    body = "".join(template.blocks[block_name](template.new_context(context)))
    template_rendered.send(app, template=template, context=context)
    return body


def render_page(
    template_name: str, *, block: str | None = None, status: int = 200, **context: Any
) -> Response:
    """The whole page, or only `block` when htmx asks; both answers vary on HX-Request.
    A form refused (see _refused) gives its fragment the page's title, "Erreur : " first,
    which htmx puts in the tab, as base.html does for the whole page."""
    if block and is_htmx():
        body = render_block(template_name, block, **context)
        if g.get("form_invalid"):
            body = f"<title>{escape(_fragment_title(template_name, context))}</title>\n{body}"
    else:
        body = render_template(template_name, **context)
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Vary"] = "HX-Request"
    return response


def _fragment_title(template_name: str, context: dict[str, Any]) -> str:
    """The page's <title> as base.html writes it, for a fragment of a refused form."""
    template = current_app.jinja_env.get_template(template_name)
    if "title" in template.blocks:
        title = Markup(render_block(template_name, "title", **context)).striptags()
    else:
        title = context.get("page_title") or "Incubateur"
    where = current_user.institution.name if current_user.is_authenticated else "Incubateur"
    return f"Erreur : {title} · {where}"


def redirect_see_other(location: str) -> Response:
    return redirect(location, code=303)


def local_path(target: str | None, default: str) -> str:
    """`target` if it is a path of this site, else `default`: where to go after a form must
    never lead elsewhere (open redirect). Browsers drop tabs and newlines inside an address
    and read a backslash as a slash, so that a tab or a backslash between two leading
    slashes would leave the site: any whitespace, control character or backslash is refused."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def done(message: str, location: str) -> Response:
    """Success of an unsafe request: flash and 303; for htmx, HX-Redirect, so that the next
    page is loaded whole (with its flash message), not as a fragment."""
    flash(message, "success")
    if is_htmx():
        response = Response(status=204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect_see_other(location)


def apply_errors(
    form: FlaskForm, exc: ValidationFailed, aliases: dict[str, str] | None = None
) -> None:
    """Put a service's field messages next to the form's fields; those for the whole form
    (WHOLE_FORM), or for a field the form does not have, above the form.

    `aliases` maps a service's field name to the form's when they differ.
    """
    for name, messages in exc.errors.items():
        field = form._fields.get((aliases or {}).get(name, name))
        if field is not None:
            field.errors = list(field.errors) + messages
        else:
            form.form_errors.extend(messages)


def get_in_institution_or_404(model: type[M], object_id: int) -> M:
    """Load an object of the current user's institution; other institutions get 404."""
    obj = db.session.get(model, object_id)
    if obj is None or getattr(obj, "institution_id", None) != current_user.institution_id:
        abort(404)
    return obj


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` URL parts within the database's integer range: a larger id is a 404,
    not an overflow error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def int_arg(name: str) -> int | None:
    """A positive id from the query string, or None."""
    try:
        value = int(request.args.get(name) or 0)
    except ValueError:
        return None
    return value if 0 < value <= MAX_ID else None


def page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 100_000))
    except ValueError:
        return 1


def url_with(**changes: Any) -> str:
    """The current URL with some query arguments changed (None removes them)."""
    args = request.args.to_dict(flat=True)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    query = urlencode(args)
    return request.path + (f"?{query}" if query else "")


ERROR_TITLES = {
    400: ("Requête invalide", "La demande n'a pas pu être comprise. Rechargez la page et réessayez."),
    401: ("Connexion nécessaire", "Connectez-vous pour accéder à cette page."),
    403: ("Accès refusé", "Vous n'avez pas les droits nécessaires pour cette page ou cette action."),
    404: ("Page introuvable", "Cette page n'existe pas ou plus, ou vous n'y avez pas accès."),
    405: ("Méthode non autorisée", "Cette adresse ne s'utilise pas de cette façon."),
    409: ("Action impossible", "L'objet a changé entre-temps : rechargez la page."),
    413: ("Fichier trop volumineux", "Le fichier envoyé dépasse la taille autorisée (5 Mo)."),
    422: ("Informations à corriger", "Certaines informations envoyées ne sont pas valides."),
    429: ("Trop de tentatives", "Patientez quelques minutes avant de réessayer."),
    500: ("Erreur interne", "Une erreur inattendue s'est produite. L'équipe technique peut la retrouver dans les journaux ; réessayez plus tard."),
    503: ("Service momentanément indisponible", "Le service ne peut pas accéder à ses données pour l'instant. Réessayez dans quelques instants ; si cela dure, prévenez l'équipe technique."),
}


def error_page(status: int, message: str | None = None) -> Response:
    """The error page, drawn as for a visitor: it reads nothing from the database, so it
    renders when the database is locked or down, and a refused request (CSRF, 404...)
    neither loads nor refreshes the person's session. It is personal all the same (a
    403 says what exists): never cached."""
    title, default = ERROR_TITLES.get(status, ERROR_TITLES[500])
    note_user()  # the access log still says whose request it was
    login_manager._update_request_context_with_user()  # anonymous, nobody loaded
    g.no_store = True
    # A server error shows the request id, which finds its lines in the logs.
    body = render_template("errors/error.html", status=status, title=title,
                           message=message or default, reference=request_id() if status >= 500 else None)
    return Response(body, status=status, mimetype="text/html")


def init_web(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter

    @app.before_request
    def refuse_nul_in_query_string():
        # No link of the application carries a NUL character (%00), and PostgreSQL refuses
        # it in any query: a filter or search with one is refused whole. (Forms refuse it
        # field by field, with a message: see incubator/forms.py.)
        if any("\x00" in value for values in request.args.listvalues() for value in values):
            abort(400, description="L'adresse contient un caractère nul : elle ne vient pas d'un lien "
                                   "de l'application.")

    @app.before_request
    def mark_write_requests():
        # Registered after CSRFProtect's check (csrf.init_app comes first in create_app):
        # a request refused by it never gets here. Routing errors (404, 405) are raised
        # only after the before_request functions, so they are looked at here.
        if request.method not in SAFE_METHODS and request.routing_exception is None:
            # The signed-in person is read now, in a read transaction, so that the write
            # transaction (on SQLite, the write gate every other writer waits for) starts
            # with the view's own reads. Ended keeping what it loaded: a rollback would
            # expire the person, read again inside the write transaction.
            _ = current_user.is_authenticated
            if db.session().in_transaction():
                _commit_keeping_state()  # nothing written yet: start again as a writer
            g.writes = True

    app.jinja_env.filters["date_fr"] = timeutil.format_date
    app.jinja_env.filters["datetime_fr"] = timeutil.format_datetime
    app.jinja_env.filters["short_date_fr"] = timeutil.format_short_date
    app.jinja_env.filters["weekday_fr"] = timeutil.format_weekday
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["list_page_title"] = list_page_title
    app.jinja_env.globals["form_error_items"] = form_error_items
    app.jinja_env.globals["error_dict_items"] = error_dict_items
    # Globals, not context: imported macros see them (the same badge everywhere).
    from .proposals.lifecycle import STATES

    app.jinja_env.globals["state_infos"] = STATES
    app.jinja_env.filters["days_since"] = timeutil.days_since
    app.jinja_env.filters["days_label"] = timeutil.days_label
    app.jinja_env.filters["linkify"] = linkify
    app.jinja_env.globals["badge_markup"] = badge
    app.jinja_env.filters["decimal_fr"] = decimal_fr
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    from .navigation import section_pages

    app.jinja_env.globals["section_pages"] = section_pages

    @app.context_processor
    def layout_context() -> dict[str, Any]:
        from .core import rgaa
        from .navigation import navigation_for

        return {
            "navigation": navigation_for(current_user),
            "accessibility_status": rgaa.result().status,
        }

    @app.template_filter("thousands")
    def thousands(number: int | None) -> str:
        """French grouping of digits: 96 213 (narrow no-break space)."""
        return f"{number or 0:,}".replace(",", "\u202f")

    @app.template_filter("options")
    def options(choices, selected: Any = None) -> Markup:
        """<option> elements for (value, label) pairs or a dict, `selected` compared as text.
        In Python: a select of a thousand units costs a loop of Jinja calls per option."""
        chosen = "" if selected is None else str(selected)
        pairs = choices.items() if hasattr(choices, "items") else choices
        return Markup("".join(
            f'<option value="{escape(value)}"{" selected" if str(value) == chosen and chosen else ""}>'
            f"{escape(label)}</option>" for value, label in pairs))

    @app.template_filter("nl2br")
    def nl2br(text: str | None) -> Markup:
        return Markup("<br>").join(escape(text or "").splitlines())

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        db.session.rollback()
        return error_page(400, "Le formulaire a expiré ou n'a pas été envoyé depuis cette "
                               "application (jeton de sécurité absent ou invalide). "
                               "Rechargez la page et recommencez.")

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        return error_page(exc.status_code, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.session.rollback()
        if exc.code is None or exc.code < 400:
            return exc
        message = exc.description if isinstance(exc.description, str) and exc.description and not exc.description.startswith(("The ", "You ", "Bad ")) else None
        return error_page(exc.code, message)

    @app.teardown_appcontext
    def release_connection(_exc: BaseException | None) -> None:
        """Give the request's connection back, even if the database went away after the
        page was built (PostgreSQL restarted while a page was rendering): the rollback
        that closing does would fail, and turn a finished page into a bare error. Runs
        before Flask-SQLAlchemy's own teardown, which then has nothing left to do."""
        try:
            db.session.close()
        except OperationalError:
            db.session().invalidate()
            return
        for work in g.pop("after_transaction", ()):
            try:
                with writing_apart(), db.session.begin():
                    work()
            except OperationalError as exc:
                app.logger.warning("Écriture différée abandonnée : %s", str(exc.orig or exc).strip())
            finally:
                db.session.close()

    @app.errorhandler(OperationalError)
    def database_error(exc: OperationalError):
        """The database did not answer: PostgreSQL restarting or out of reach, a lost
        connection, SQLite still locked after the wait. The next requests reconnect
        (pool_pre_ping), so: 503 and Retry-After. The page is drawn as for a visitor,
        since the person's menu would read the database again. Any other operational
        error (a query SQLite refuses...) is a bug: 500."""
        if not database_unavailable(exc):
            return unexpected_error(exc)
        db.session().invalidate()  # drop the connection, without a rollback that could fail too
        app.logger.error("Base de données indisponible sur %s %s : %s", request.method, logged_path(),
                         str(exc.orig or exc).strip())
        g.pop("after_transaction", None)
        response = error_page(503)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        db.session.rollback()
        # With its traceback, and the request id that the access line and the
        # X-Request-ID header of the answer carry (see incubator/observability.py).
        app.logger.exception("Erreur non gérée sur %s %s", request.method, logged_path())
        return error_page(500)


def database_unavailable(exc: OperationalError) -> bool:
    """Connecting failed, the connection broke, the server is shutting down or starting
    (SQLSTATE classes 08 and 57P), or SQLite stayed locked for the whole wait."""
    if exc.statement is None or exc.connection_invalidated:
        return True
    if (getattr(exc.orig, "sqlstate", None) or "").startswith(("08", "57P")):
        return True
    return "database is locked" in str(exc.orig)


def form_errors(form: FlaskForm) -> dict[str, list[str]]:
    """The messages the form's own validation put on its fields (and on the whole form)."""
    errors = {name: list(field.errors) for name, field in form._fields.items() if field.errors}
    if form.form_errors:
        errors[WHOLE_FORM] = list(form.form_errors)
    return errors


def write(
    form: FlaskForm | None,
    action: Callable[[], R],
    *,
    success: Callable[[R], Response],
    invalid: Callable[[ValidationFailed], Response] | None = None,
    aliases: dict[str, str] | None = None,
    keep_loaded: bool = False,
) -> Response:
    """The one way a view writes: validate `form`, run the one service call `action`,
    commit once, answer.

    - Success: the transaction is committed, then `success(result of action)` answers
      (usually `done(...)`: 303, or HX-Redirect for htmx), outside the write transaction
      (see _writes_over): nothing slow runs while SQLite's write lock is held. With
      `keep_loaded`, the commit keeps the objects loaded instead of expiring
      them: for the hottest writes (a vote during a session), whose fragment would
      otherwise read again every object the commit expired. A failing commit still
      answers an error, never a false success.
    - The form refuses: the service still runs, rolled back, for its messages on the other
      fields (forms.add_service_errors), so that every problem is reported at once.
    - ValidationFailed (the form's own validators, or the service): rolled back (unless
      the refusal `keeps_writes`), the messages put next to the form's fields (`aliases`
      maps a service's field name to the form's when they differ), and `invalid(refusal)`
      answers with the exception's status, 422: the form again, as a page or as the htmx
      block that render_page gives. Without `invalid`, the error page says the message.
    - NotAllowed, InvalidTransition, any other error: raised on, to the handlers of
      init_web, which roll back and answer 403/404/409 with the service's message.

    CSRF is checked for every unsafe request before its view (CSRFProtect): not here.
    Called for an unsafe request only (a page that also answers GET renders itself then).
    """
    if form is not None and not form.validate():
        add_service_errors(form, action, aliases)
        db.session.rollback()
        return _refused(ValidationFailed(form_errors(form)), invalid)
    try:
        result = action()
    except ValidationFailed as refusal:
        if refusal.keeps_writes:
            db.session.commit()
        else:
            db.session.rollback()
        if form is not None:
            apply_errors(form, refusal, aliases)
        return _refused(refusal, invalid)
    if keep_loaded:
        _commit_keeping_state()
    else:
        db.session.commit()
    _writes_over()
    return success(result)


def _commit_keeping_state() -> None:
    """Commit without expiring the session's objects: what they hold is what was just
    committed (the request wrote it, holding the write lock), so the answer built from them
    is right without reading them all again."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def _writes_over() -> None:
    """After the request's one commit, what it still reads to answer (the page or fragment,
    the objects the commit expired) is read in a deferred transaction: on SQLite, rendering
    no longer holds the write lock that every other writer waits for."""
    g.writes = False


def _refused(refusal: ValidationFailed, invalid: Callable[[ValidationFailed], Response] | None) -> Response:
    """Called once the refused write's transaction is over (rolled back, or committed when
    the refusal keeps its writes): the form's page is read and rendered like a success's
    answer, without the write lock."""
    _writes_over()
    if invalid is None:
        raise refusal
    g.form_invalid = True  # the page's title starts with "Erreur : " (base.html, render_page)
    response = invalid(refusal)
    response.status_code = refusal.status_code
    return response
