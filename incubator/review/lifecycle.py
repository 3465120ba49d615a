"""The agenda item lifecycle as data: (state, action) -> (new state, who may).

A proposal scheduled for a session is an item of its agenda. The coordinator (not recused
on the proposal, or its substitute: review.policy) opens and closes its vote and publishes
its decision; the present, non-recused members vote while it is open. Two coordinators may
act at once: the services move items through conditional UPDATEs built from this table.
"""

from __future__ import annotations

from ..proposals.lifecycle import COORDINATOR
from ..statemachine import Lifecycle, State
from ..statemachine import t as _t

MEMBER = "member"  # a member of the collective, present at the session, not recused

ITEM_STATES = {s.code: s for s in [
    State("pending", "À l'ordre du jour", "info"),
    State("voting", "Vote ouvert", "info"),
    State("closed", "Vote clos, décision à publier", "warning"),
    State("decided", "Décision publiée", "success"),
    State("postponed", "Reporté (quorum non atteint)", "warning"),
    State("withdrawn", "Retiré par son auteur", "warning"),
]}
ITEM_STATUSES = {code: s.label for code, s in ITEM_STATES.items()}

TRANSITIONS = [
    _t("open_vote", "pending", "voting", {COORDINATOR}, "Ouvrir le vote"),
    _t("postpone", "pending", "postponed", {COORDINATOR}, "Reporter"),
    _t("vote", "voting", "voting", {MEMBER}, "Voter"),
    _t("close", "voting", "closed", {COORDINATOR}, "Clore le vote"),
    # The proposal was withdrawn by its author during the vote: nothing to decide.
    _t("drop", "voting", "withdrawn", {COORDINATOR}, "Clore le vote"),
    # Closed without quorum: postponed, the proposal goes back to review undecided.
    _t("adjourn", "closed", "postponed", {COORDINATOR}, "Reporter faute de quorum"),
    _t("publish", "closed", "decided", {COORDINATOR}, "Publier la décision"),
    # Scheduled again for the same session: back on its agenda, its votes cleared.
    _t("reschedule", "postponed", "pending", {COORDINATOR}, "Inscrire à nouveau"),
]

ITEMS = Lifecycle(ITEM_STATES, TRANSITIONS, column="status", initial="pending",
                  refused="Vous ne pouvez pas faire cette action sur ce point de l'ordre du jour.",
                  impossible="Action impossible : ce point est « {label} ».")

# Items whose arbitration is under way: a vote open, or a decision to publish.
IN_PROGRESS = ITEMS.sources("close") + ITEMS.sources("publish")
