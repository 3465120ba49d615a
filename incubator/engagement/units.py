"""The institution's units as the HR report uses them: where each agent is filed (direction,
service), the unit filter, and a unit's sub-units. One light query (columns, not objects),
read again only when they change (UnitTree.load): a large institution has close to a
thousand units.

The filter is two selects, not one of every unit: "Direction" lists the directions (and the
units at the top of the tree), "Service" the units of the chosen direction only. A select
of 824 units weighed half the page (90 KB) and its building a good part of its time; the
two together list a few dozen options, and each stays a plain select (keyboard, no script)."""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..organisation.models import Institution, OrgUnit


@dataclass(frozen=True)
class UnitTree:
    units: dict[int, tuple[int | None, str, str, str]]  # id -> (parent id, kind, name, code)
    children: dict[int | None, list[int]]  # in name order

    @classmethod
    def load(cls, institution_id: int, *, token: str | None = None) -> UnitTree:
        """The institution's tree: the one this process read last, while the institution's
        units token (drawn anew by the database at each change of its units, migration
        0022) is still the one it was read under; else read again. The token is read first:
        a change committed between the two reads gives a newer tree under an older token,
        read again at the next call, never the reverse. `token`: the one the request has
        already read (the signed-in person's institution comes with their session)."""
        if token is None:
            token = db.session.scalar(select(Institution.org_units_token).where(Institution.id == institution_id))
        kept = _TREES.get(institution_id)
        if kept is not None and token is not None and kept[0] == token:
            return kept[1]
        tree = cls.read(institution_id)
        if token is not None:
            _TREES[institution_id] = (token, tree)
        return tree

    @classmethod
    def read(cls, institution_id: int) -> UnitTree:
        rows = db.session.execute(
            select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.kind, OrgUnit.name, OrgUnit.code)
            .where(OrgUnit.institution_id == institution_id).order_by(OrgUnit.name, OrgUnit.id)).all()
        units = {uid: (parent, kind, name, code) for uid, parent, kind, name, code in rows}
        children: dict[int | None, list[int]] = defaultdict(list)
        for uid, (parent, *_rest) in units.items():
            # A parent outside the institution (or a cycle's way in) files the unit at the top.
            children[parent if parent in units else None].append(uid)
        return cls(units, children)

    def _is_anchor(self, uid: int) -> bool:
        parent, kind, *_ = self.units[uid]
        return kind == "direction" or parent not in self.units

    def anchor(self, uid: int) -> int | None:
        """The unit's direction (itself if it is one), or the unit at the top of its branch."""
        seen = set()
        while uid in self.units and uid not in seen:
            if self._is_anchor(uid):
                return uid
            seen.add(uid)
            uid = self.units[uid][0]
        return None

    def subtree(self, uid: int) -> list[int]:
        """The unit and every unit under it."""
        found, stack = [], [uid]
        while stack:
            current = stack.pop()
            if current in found:
                continue
            found.append(current)
            stack.extend(self.children.get(current, ()))
        return found

    def place(self, uid: int | None) -> tuple[str, str]:
        """(direction, service) as HR files them: a direction is its own direction with no
        service; a service belongs to its nearest direction above (none if it hangs at the top)."""
        if uid not in self.units:
            return ("", "")
        parent, kind, name, _code = self.units[uid]
        if kind == "direction":
            return (name, "")
        seen = {uid}
        while parent in self.units and parent not in seen and self.units[parent][1] != "direction":
            seen.add(parent)
            parent = self.units[parent][0]
        return (self.units[parent][2] if parent in self.units and self.units[parent][1] == "direction" else "", name)

    def _walk(self, roots, keep, indent: str, choices: list, *, through: bool) -> None:
        """Appends the units of `roots` and below that `keep` accepts; `through`: look
        under a unit refused too."""
        for uid in roots:
            if keep(uid):
                choices.append((str(uid), f"{indent}{self.units[uid][2]} ({self.units[uid][3]})"))
                self._walk(self.children.get(uid, ()), keep, indent + "\u2003", choices, through=through)
            elif through:
                self._walk(self.children.get(uid, ()), keep, indent, choices, through=through)

    @functools.cached_property
    def direction_choices(self) -> tuple[tuple[str, str], ...]:
        """The directions and the units at the top, in tree order, indented by depth: walked
        once per tree (a tree is kept by the process while its units do not change, and
        walking a thousand units was a tenth of the HR page)."""
        choices = [("", "Toutes")]
        self._walk(self.children.get(None, ()), self._is_anchor, "", choices, through=True)
        return tuple(choices)

    def service_choices(self, anchor: int | None) -> list[tuple[str, str]]:
        """The units filed under `anchor` (not its sub-directions, listed with the
        directions), in tree order; empty when it has none."""
        if anchor not in self.units:
            return []
        choices = [("", "Tous")]
        self._walk(self.children.get(anchor, ()), lambda uid: not self._is_anchor(uid), "", choices, through=False)
        return choices if len(choices) > 1 else []

    def chosen(self, direction_id: int | None, service_id: int | None) -> int | None:
        """The unit the filters ask for: the service when it lies in the chosen direction
        (or when no direction is given: a shared link), else the direction. A service left
        from another direction, after the direction changed, is dropped."""
        if service_id and (not direction_id or self.anchor(service_id) == direction_id):
            return service_id
        return direction_id


# Institution id -> (its units token, its tree), shared by the process's requests; a tree
# is never changed once built (UnitTree.load).
_TREES: dict[int, tuple[str, UnitTree]] = {}
