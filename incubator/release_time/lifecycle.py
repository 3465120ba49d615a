"""The time entry lifecycle as data: (state, action) -> (new state, who may).

The agent records hours (a cell of the week grid) and submits the week; the N+1, or whoever
holds the N+1's delegation that day (people.hierarchy.can_decide_for), approves or
refuses. An approved entry is frozen: a new value on it is a new entry that corrects it.
Week-wide actions move many entries at once, through conditional UPDATEs built here.
"""

from __future__ import annotations

from ..statemachine import Lifecycle, State
from ..statemachine import t as _t

AGENT = "agent"  # the entry's own agent
APPROVER = "approver"  # their N+1, or the holder of the N+1's delegation; never the agent

STATUSES = {
    "planned": ("Prévu (à confirmer)", "info"),
    "draft": ("Brouillon", "neutral"),
    "submitted": ("En attente du N+1", "warning"),
    "approved": ("Validé", "success"),
    "refused": ("Refusé", "danger"),
}

TRANSITIONS = [
    _t("edit", "planned", "draft", {AGENT}, "Confirmer ou modifier"),
    _t("edit", "draft", "draft", {AGENT}, "Modifier"),
    _t("edit", "refused", "draft", {AGENT}, "Corriger"),
    _t("submit", "draft", "submitted", {AGENT}, "Transmettre à mon N+1"),
    _t("recall", "submitted", "draft", {AGENT}, "Rappeler la semaine pour la modifier"),
    _t("approve", "submitted", "approved", {APPROVER}, "Valider"),
    _t("refuse", "submitted", "refused", {APPROVER}, "Refuser"),
    # The approved entry stays as it is: the correction is a new entry, to approve in turn.
    _t("correct", "approved", "approved", {AGENT}, "Corriger par une nouvelle saisie"),
]

ENTRIES = Lifecycle({code: State(code, label, tone) for code, (label, tone) in STATUSES.items()}, TRANSITIONS,
                    column="status", initial="draft",
                    refused="Vous ne pouvez pas faire cette action sur ces heures.",
                    impossible="Action impossible : ces heures sont « {label} ».")

# Hours that count against the cap and the budgets: awaiting approval or approved.
COUNTED = (ENTRIES.target("submit"), ENTRIES.target("approve"))
# Hours the N+1 refused: shown with the reason until the agent corrects them.
REFUSED = ENTRIES.target("refuse")
