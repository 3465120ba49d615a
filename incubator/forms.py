"""Base form: WTForms' own messages in French (no Flask-Babel needed), and what every
form refuses whatever its fields: input no HTML form sends."""

from collections.abc import Callable, Iterable
from typing import Any

from flask import current_app, has_request_context, request
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import FileField
from wtforms.widgets import HiddenInput

from .errors import WHOLE_FORM, DomainError, ValidationFailed

NUL_MESSAGE = "Ce champ contient un caractère non autorisé (caractère nul)."


class Form(FlaskForm):
    class Meta:
        locales = ("fr",)

        def wrap_formdata(self, form, formdata):
            if formdata is None or hasattr(formdata, "getlist"):
                return formdata  # given explicitly
            if not has_request_context() or request.method not in ("POST", "PUT", "PATCH", "DELETE"):
                return None
            # From the request, only what an HTML form sends: text values, and files for
            # file fields alone (a file in a text field would reach the services as an
            # object). A JSON body is not a form: its values may be of any type.
            file_names = {field.name for field in form if isinstance(field, FileField)}
            files = MultiDict([(name, value) for name, value in request.files.items(multi=True)
                               if name in file_names])
            if files:
                return CombinedMultiDict((files, request.form))
            return request.form or None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A hidden input is never labelled nor targeted, and a page with several forms would
        # repeat its id (`csrf_token`, RGAA 8.2, issue 20): hidden fields render without one.
        for field in self:
            if isinstance(field.widget, HiddenInput):
                field.render_kw = {"id": False, **(field.render_kw or {})}

    def validate(self, extra_validators=None) -> bool:
        # No keyboard types a NUL character, and PostgreSQL refuses it in text: refused here,
        # next to the field, rather than failing in the database.
        valid = super().validate(extra_validators)
        for field in self:
            if any(isinstance(value, str) and "\x00" in value for value in field.raw_data or ()):
                field.errors = [*field.errors, NUL_MESSAGE]
                valid = False
        return valid


def add_service_errors(form: FlaskForm, action: Callable[[], Any],
                       aliases: dict[str, str] | None = None) -> None:
    """Run `action` (the view's one service call) on a form that its own validators
    refused, to put the service's field messages next to the fields the form found
    nothing wrong with: every problem is reported at once, not the service's only after
    the form's are fixed (RGAA 11.10). The caller rolls the whole transaction back.

    Safe because services change nothing outside the database (side effects go through
    the outbox, the session and cookies are the view's, after the commit). Messages for the
    whole form are left out: they speak of input as a whole that is not yet valid. A
    refusal of another kind (403, 409), or a service tripping over a value the form
    refused, leaves the form's own messages alone: they come first."""
    try:
        action()
    except ValidationFailed as refusal:
        for name, messages in refusal.errors.items():
            field = form._fields.get((aliases or {}).get(name, name))
            if name != WHOLE_FORM and field is not None and not field.errors:
                field.errors = list(messages)
    except DomainError:
        pass
    except Exception:  # noqa: BLE001 - a value the form refused reached the service: reported as is
        current_app.logger.warning("Contrôle complémentaire d'un formulaire invalide interrompu",
                                   exc_info=True)


# Fields drawn as a group of choices (templates/_macros/forms.html): a link to the field goes
# to its first choice, `<id>-0`.
GROUPED_FIELDS = frozenset({"RadioField", "SelectMultipleField"})
UNLINKED_FIELDS = frozenset({"HiddenField", "CSRFTokenField"})


def form_error_items(form: FlaskForm, drawn_elsewhere: Iterable[tuple[str, str, str]] = ()
                     ) -> list[tuple[str | None, str]]:
    """The error summary's lines for `form` (macro error_summary): (anchor id, text) pairs,
    the messages about the whole form first (no field to go to), then each field's, in the
    form's order, each naming its field. `drawn_elsewhere`: (anchor id, label, message) of
    controls outside the WTForms form (a charter's team rows), whose messages apply_errors
    put above the form: listed last, with their link, instead."""
    elsewhere = list(drawn_elsewhere)
    moved = {message for _anchor, _label, message in elsewhere}
    items: list[tuple[str | None, str]] = [(None, message) for message in form.form_errors if message not in moved]
    for field in form:
        if field.type in UNLINKED_FIELDS:
            anchor = None
        else:
            anchor = f"{field.id}-0" if field.type in GROUPED_FIELDS else field.id
        label = field.label.text
        items.extend((anchor, _naming(label, message)) for message in field.errors)
    items.extend((anchor, _naming(label, message)) for anchor, label, message in elsewhere)
    return items


def error_dict_items(errors: dict[str, list[str]], fields: dict[str, tuple[str, str]] | None = None,
                     keys_are_ids: bool = False) -> list[tuple[str | None, str]]:
    """The error summary's lines for a page drawing its fields by hand from a service's
    messages (ValidationFailed.errors): `fields` maps a message key to its control's id and
    label; with `keys_are_ids`, any other key is its control's id (a grid of fields);
    otherwise, or for the whole form, the message has no link."""
    items: list[tuple[str | None, str]] = []
    for key, messages in errors.items():
        anchor, label = (fields or {}).get(key, (key if keys_are_ids and key != WHOLE_FORM else None, ""))
        items.extend((anchor, _naming(label, message)) for message in messages)
    return items


def _naming(label: str, message: str) -> str:
    """A summary line names its field, unless the message does already."""
    return message if not label or label in message else f"{label} : {message}"
