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


class ValidationFailed(DomainError):
    """Input refused; `errors` maps a field name to its French messages (HTTP 422)."""

    status_code = 422

    def __init__(self, errors: dict[str, list[str] | str], message: str | None = None):
        self.errors = {k: [v] if isinstance(v, str) else list(v) for k, v in errors.items()}
        super().__init__(message or "Certaines informations sont à corriger.")
