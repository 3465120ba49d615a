"""One small state machine for every lifecycle: a table of (state, action) -> (new state,
who may), read by the services (the only way a state changes), the templates (which
buttons to show, each state's badge) and the tests (every allowed and refused transition).

A lifecycle's "who" are capacities (author, coordinator, N+1…) that the domain's policy
grants an actor on one object; the machine only compares them with the table.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from markupsafe import Markup
from sqlalchemy import Table, update

from .errors import InvalidTransition, NotAllowed, Refusal, not_now, refuse
from .text import badge


@dataclass(frozen=True)
class State:
    """One state as the pages show it: its French label and the tone of its badge (neutral,
    info, success, warning, danger; the label always says it in words too). A lifecycle may
    describe its states with a subclass that says more (next step, is open...)."""

    code: str
    label: str
    tone: str

    @functools.cached_property
    def badge(self) -> Markup:
        """The state as the pages show it, the same badge everywhere: its label in words,
        its tone in colour. Built once per state: the lists show one per row, and a
        template macro per badge cost more than the rest of the row."""
        return badge(self.label, self.tone)


class Worded:
    """How an object that has a kind and a lifecycle reads on the pages (a model, or the row
    of it a list shows): its state as `State`, its kind's label. A subclass names its
    lifecycle's states and its kinds' labels."""

    WORDED_STATES: ClassVar[Mapping[str, State]]
    WORDED_KINDS: ClassVar[Mapping[str, str]]
    state: str
    kind: str

    @property
    def state_info(self) -> State:
        return self.WORDED_STATES[self.state]

    @property
    def kind_label(self) -> str:
        return self.WORDED_KINDS[self.kind]

    @property
    def kind_badge(self) -> Markup:
        return badge(self.kind_label, "kind")


@dataclass(frozen=True)
class Transition:
    action: str
    source: str
    target: str
    who: frozenset[str]
    label: str  # the button, in French


def t(action: str, source: str, target: str, who: Iterable[str], label: str = "") -> Transition:
    return Transition(action, source, target, frozenset(who), label)


class Lifecycle:
    """A lifecycle table. `states` maps each state's code to its `State` (label, tone);
    `column` is the model attribute that holds the state; `initial` the state a new object
    starts in (default: the first one); `refused` is the NotAllowed message and
    `impossible` the InvalidTransition one (`{label}` is the current state's label)."""

    def __init__(self, states: Mapping[str, State], transitions: Iterable[Transition], *,
                 column: str = "state", initial: str | None = None, refused: str, impossible: str):
        self._states = dict(states)
        self.labels = {code: state.label for code, state in self._states.items()}
        self.initial = initial or next(iter(self.labels))  # the state a new object starts in
        self.transitions = list(transitions)
        self.column = column
        self.refused = refused
        self.impossible = impossible
        self._by_key = {(tr.source, tr.action): tr for tr in self.transitions}
        if len(self._by_key) != len(self.transitions):
            raise ValueError("Two transitions share a (state, action).")
        unknown = {s for tr in self.transitions for s in (tr.source, tr.target)} - set(self.labels)
        if unknown:
            raise ValueError(f"Unknown states in the table: {sorted(unknown)}")
        self.actions = sorted({tr.action for tr in self.transitions})
        self.roles = frozenset().union(*(tr.who for tr in self.transitions))

    # ------------------------------------------------------------------ reading the table

    @property
    def states(self) -> list[str]:
        return list(self.labels)

    def label(self, state: str) -> str:
        return self.labels[state]

    def info(self, state: str) -> State:
        """The state as pages show it (label, badge tone...)."""
        return self._states[state]

    def transition(self, state: str, action: str) -> Transition | None:
        return self._by_key.get((state, action))

    def allowed(self, state: str, action: str, capacities: set[str] | frozenset[str]) -> bool:
        found = self.transition(state, action)
        return found is not None and bool(found.who & capacities)

    def available(self, state: str, capacities: set[str] | frozenset[str]) -> list[Transition]:
        """The transitions these capacities may take from this state (the page's buttons)."""
        return [tr for tr in self.transitions if tr.source == state and tr.who & capacities]

    def may(self, action: str, capacities: set[str] | frozenset[str]) -> bool:
        """Whether these capacities may take `action` from some state."""
        return any(tr.who & capacities for tr in self.transitions if tr.action == action)

    def sources(self, action: str) -> tuple[str, ...]:
        """The states `action` leaves from, in the table's order."""
        found = tuple(dict.fromkeys(tr.source for tr in self.transitions if tr.action == action))
        if not found:
            raise KeyError(action)
        return found

    def target(self, action: str) -> str:
        """The one state `action` leads to (an action with several targets has none)."""
        targets = {tr.target for tr in self.transitions if tr.action == action}
        if len(targets) != 1:
            raise KeyError(f"{action} leads to {sorted(targets)}")
        return targets.pop()

    # ------------------------------------------------------------------ guarding, moving

    def refusal(self, state: str, action: str, capacities: set[str] | frozenset[str], *,
                impossible: str | None = None) -> Refusal | None:
        """The table's verdict as a policy's answer: None, or why not (these capacities
        never take this action, or not from here: NotAllowed; not from this state:
        InvalidTransition)."""
        if not self.may(action, capacities):
            return Refusal(self.refused, NotAllowed)
        found = self.transition(state, action)
        if found is None:
            return not_now((impossible or self.impossible).format(label=self.labels.get(state, state)))
        if not found.who & capacities:
            return Refusal(self.refused, NotAllowed)
        return None

    def require(self, state: str, action: str, capacities: set[str] | frozenset[str], *,
                impossible: str | None = None) -> Transition:
        """The table's verdict: the transition, or NotAllowed (these capacities never take
        this action, or not from here) or InvalidTransition (not from this state)."""
        refuse(self.refusal(state, action, capacities, impossible=impossible))
        return self.transition(state, action)

    def state_of(self, obj: Any) -> str:
        return getattr(obj, self.column)

    def enter(self, obj: Any, transition: Transition) -> str:
        """Put `obj` in the transition's target (checked by `require` beforehand); returns
        the state it leaves."""
        before = self.state_of(obj)
        if before != transition.source:
            raise InvalidTransition(self.impossible.format(label=self.labels.get(before, before)))
        setattr(obj, self.column, transition.target)
        return before

    def move(self, obj: Any, action: str, capacities: set[str] | frozenset[str], *,
             impossible: str | None = None) -> Transition:
        """Require then enter: the one way a service changes an object's state in memory."""
        found = self.require(self.state_of(obj), action, capacities, impossible=impossible)
        self.enter(obj, found)
        return found

    def update(self, model: Any, action: str, *where: Any, **values: Any):
        """A conditional UPDATE taking `action` on the rows matching `where` that are still
        in one of its source states: atomic when two people act at once (compare its
        rowcount with the rows expected)."""
        # A mapped class (an ORM update, which brings the session's objects up to date) or
        # its Table (a plain one, cheaper: for a write that holds none of them).
        column = model.c[self.column] if isinstance(model, Table) else getattr(model, self.column)
        return (update(model).where(*where, column.in_(self.sources(action)))
                .values({self.column: self.target(action), **values}))
