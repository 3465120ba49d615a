"""Domain errors raised by service functions and turned into HTTP answers by the views."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a rule of the domain refused the action."""

    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotAllowed(DomainError):
    """The acting user may not do this (HTTP 403)."""

    status_code = 403


class InvalidTransition(DomainError):
    """The object is not in a state that allows this action (HTTP 409)."""

    status_code = 409


# The key of a message about the whole form rather than one field (shown above the form).
WHOLE_FORM = "__all__"


class ValidationFailed(DomainError):
    """Input refused; `errors` maps a field name (or WHOLE_FORM) to its French messages
    (HTTP 422). The view answers the form again with the messages next to the fields
    (web.write); nothing the service wrote is kept, unless `keeps_writes` says that the
    refusal is itself a fact to record (a failed login attempt, which throttling counts)."""

    status_code = 422
    keeps_writes = False

    def __init__(self, errors: dict[str, list[str] | str], message: str | None = None):
        self.errors = {k: [v] if isinstance(v, str) else list(v) for k, v in errors.items()}
        super().__init__(message or "Certaines informations sont à corriger.")


class Checks:
    """Several checks of one input, their messages gathered and raised together, so that a
    form reports all its problems at once (RGAA 11.10):

        checks = Checks()
        name = checks.run(check_name, name)   # None if refused
        checks.add("code", "Ce code est déjà utilisé.")
        checks.raise_any()
    """

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def run(self, check, *args, **kwargs):
        try:
            return check(*args, **kwargs)
        except ValidationFailed as refusal:
            for field, messages in refusal.errors.items():
                self.errors.setdefault(field, []).extend(messages)
            return None

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


class Refusal(str):
    """Why a `can_<action>` predicate refuses: the French reason (a str, shown as is by the
    page that hides the button) and the error the service raises with it: `NotAllowed`
    (who asks), or `InvalidTransition` (the object's state; see `not_now`)."""

    error: type[DomainError]

    def __new__(cls, message: str, error: type[DomainError] = NotAllowed) -> Refusal:
        refusal = super().__new__(cls, message)
        refusal.error = error
        return refusal


def not_now(message: str) -> Refusal:
    """A refusal because of the object's state (HTTP 409), not of who asks."""
    return Refusal(message, InvalidTransition)


def refuse(refusal: str | None) -> None:
    """Raise what a `can_<action>` predicate answered, if it refused: its own error for a
    `Refusal`, `NotAllowed` for a plain reason. The services' one way to say no."""
    if refusal:
        raise getattr(refusal, "error", NotAllowed)(str(refusal))
