"""Where a notification leads: an endpoint and its values, stored as such and turned into
an address when it is shown, so that a notification keeps leading to its page when the
addresses of the application change (`url_for`, never a path written by hand)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_request_context, url_for
from werkzeug.routing import BuildError


@dataclass(frozen=True)
class Link:
    endpoint: str
    values: dict[str, Any] = field(default_factory=dict)
    anchor: str | None = None

    def path(self) -> str:
        """The address on this site (with the application's prefix inside a request)."""
        if has_request_context():
            return url_for(self.endpoint, _anchor=self.anchor, **self.values)
        # Outside a request (the digest and overdue commands): the same route, from the map.
        path = current_app.url_map.bind("localhost").build(self.endpoint, self.values)
        return f"{path}#{self.anchor}" if self.anchor else path


def link(endpoint: str, anchor: str | None = None, **values: Any) -> Link:
    """`link("projects.show", project_id=3)`: values are the endpoint's arguments (query
    string arguments included), JSON-serialisable."""
    return Link(endpoint, {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()},
                anchor)


def stored_path(endpoint: str | None, values: dict[str, Any] | None, anchor: str | None,
                fallback: str) -> str:
    """A stored link as an address; the path recorded when it was sent if its endpoint no
    longer exists (or for notifications older than endpoint links)."""
    if not endpoint:
        return fallback
    try:
        return Link(endpoint, values or {}, anchor).path()
    except BuildError:
        return fallback
