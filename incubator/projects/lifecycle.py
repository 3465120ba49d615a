"""The project lifecycle as data: (state, action) -> (new state, who may)."""

from __future__ import annotations

from dataclasses import dataclass

from ..statemachine import Lifecycle, Transition  # noqa: F401  (re-exported)
from ..statemachine import State as BaseState
from ..statemachine import t as _t

LEAD = "lead"
MEMBER = "member"
SPONSOR = "sponsor"
COORDINATOR = "coordinator"


@dataclass(frozen=True)
class State(BaseState):
    is_closed: bool


STATES = {s.code: s for s in [
    State("framing", "En cadrage", "info", False),
    State("active", "En cours", "success", False),
    State("on_hold", "En pause", "warning", False),
    State("completed", "Terminé", "neutral", True),
    State("abandoned", "Abandonné", "danger", True),
]}


TRANSITIONS = [
    # Validated by the coordinator, never by its lead or its sponsor (projects.policy).
    _t("validate_charter", "framing", "active", {COORDINATOR}, "Valider la lettre de mission"),
    _t("hold", "active", "on_hold", {LEAD, COORDINATOR}, "Mettre en pause"),
    _t("resume", "on_hold", "active", {LEAD, COORDINATOR}, "Reprendre"),
    _t("complete", "active", "completed", {LEAD, COORDINATOR}, "Clore : projet terminé"),
    _t("complete", "on_hold", "completed", {LEAD, COORDINATOR}, "Clore : projet terminé"),
    _t("abandon", "framing", "abandoned", {LEAD, SPONSOR, COORDINATOR}, "Clore : projet abandonné"),
    _t("abandon", "active", "abandoned", {LEAD, SPONSOR, COORDINATOR}, "Clore : projet abandonné"),
    _t("abandon", "on_hold", "abandoned", {LEAD, SPONSOR, COORDINATOR}, "Clore : projet abandonné"),
]
MACHINE = Lifecycle(STATES, TRANSITIONS, column="state",
                    refused="Vous ne pouvez pas faire cette action sur ce projet.",
                    impossible="Action impossible : le projet est « {label} ».")
OPEN_STATES = tuple(code for code, s in STATES.items() if not s.is_closed)
ON_HOLD = MACHINE.target("hold")

transition = MACHINE.transition
allowed = MACHINE.allowed
available = MACHINE.available


# --------------------------------------------------------------------------- applications


