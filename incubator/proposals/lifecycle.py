"""The proposal lifecycle as data: states, and (state, action) -> (new state, who may).

Services check transitions against this table, templates ask it which buttons to show,
and the tests walk it for every allowed and refused transition. The review actions are
carried out by the arbitration module (review/), through the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..statemachine import Lifecycle, Transition  # noqa: F401  (re-exported)
from ..statemachine import State as BaseState
from ..statemachine import t as _t

# Who may act: the main author, an accepted co-author, or the collective's coordinator (a
# session's decision publishes through the coordinator). The coordinator's capacity on a
# proposal is granted by review.policy only: not to a coordinator recused on it, and to the
# substitute an administrator designated for it.
AUTHOR = "author"
COAUTHOR = "coauthor"
COORDINATOR = "coordinator"


@dataclass(frozen=True)
class State(BaseState):
    next_step: str  # what happens next, in one sentence
    actor: str  # who acts next, for the board
    is_open: bool  # still waiting for an answer


STATES: dict[str, State] = {s.code: s for s in [
    State("draft", "Brouillon", "neutral",
          "L'auteur ou l'autrice complète sa proposition puis la dépose.", "Auteur", True),
    State("submitted", "Déposée", "info",
          "L'animation du collectif vérifie sa recevabilité, puis ouvre son instruction.",
          "Animation du collectif", True),
    State("in_review", "En instruction", "info",
          "Les membres du collectif l'évaluent sur les critères publiés avant son inscription en séance.",
          "Collectif pilote", True),
    State("scheduled", "Inscrite en séance", "warning",
          "Le collectif en débat et vote lors de la prochaine séance d'arbitrage.",
          "Collectif pilote", True),
    State("changes_requested", "Modifications demandées", "warning",
          "L'auteur ou l'autrice revoit sa proposition selon la décision motivée, puis la dépose à nouveau.",
          "Auteur", True),
    State("accepted", "Retenue", "success",
          "La proposition devient un projet, suivi dans les réalisations.", "Équipe projet", False),
    State("rejected", "Non retenue", "danger",
          "La décision et sa motivation sont publiées au journal des arbitrages.", "—", False),
    State("not_eligible", "Non recevable", "danger",
          "Le motif de non-recevabilité est publié au journal des arbitrages.", "—", False),
    State("withdrawn", "Retirée", "neutral",
          "Son auteur ou autrice l'a retirée ; elle reste consultable.", "—", False),
]}


TRANSITIONS: list[Transition] = [
    # Implemented by proposals.services
    _t("edit", "draft", "draft", {AUTHOR, COAUTHOR}, "Modifier"),
    _t("submit", "draft", "submitted", {AUTHOR}, "Déposer la proposition"),
    _t("withdraw", "draft", "withdrawn", {AUTHOR}, "Abandonner ce brouillon"),
    _t("withdraw", "submitted", "withdrawn", {AUTHOR}, "Retirer la proposition"),
    _t("withdraw", "in_review", "withdrawn", {AUTHOR}, "Retirer la proposition"),
    _t("withdraw", "scheduled", "withdrawn", {AUTHOR}, "Retirer la proposition"),
    _t("withdraw", "changes_requested", "withdrawn", {AUTHOR}, "Retirer la proposition"),
    _t("edit", "changes_requested", "changes_requested", {AUTHOR, COAUTHOR}, "Réviser"),
    _t("resubmit", "changes_requested", "submitted", {AUTHOR}, "Déposer la version révisée"),
    # Implemented by review (arbitration)
    _t("open_review", "submitted", "in_review", {COORDINATOR}, "Ouvrir l'instruction"),
    _t("declare_ineligible", "submitted", "not_eligible", {COORDINATOR}, "Déclarer non recevable"),
    _t("schedule", "in_review", "scheduled", {COORDINATOR}, "Inscrire en séance"),
    _t("postpone", "scheduled", "in_review", {COORDINATOR}, "Reporter"),
    _t("accept", "scheduled", "accepted", {COORDINATOR}, "Publier : retenue"),
    _t("reject", "scheduled", "rejected", {COORDINATOR}, "Publier : non retenue"),
    _t("request_changes", "scheduled", "changes_requested", {COORDINATOR}, "Publier : modifications demandées"),
    # A correction never sets an outcome: it reopens the proposal, for a new vote or, after a
    # not-eligible decision, for its instruction.
    _t("correct", "accepted", "in_review", {COORDINATOR}, "Corriger : remettre au vote"),
    _t("correct", "rejected", "in_review", {COORDINATOR}, "Corriger : remettre au vote"),
    _t("correct", "changes_requested", "in_review", {COORDINATOR}, "Corriger : remettre au vote"),
    _t("correct", "not_eligible", "in_review", {COORDINATOR}, "Corriger : ouvrir l'instruction"),
]

MACHINE = Lifecycle(STATES, TRANSITIONS, column="state",
                    refused="Vous ne pouvez pas faire cette action sur cette proposition.",
                    impossible="Action impossible : la proposition est à l'étape « {label} ».")
ACTIONS = MACHINE.actions
# States in which a proposal is still awaiting its answer (supports allowed, etc.).
OPEN_STATES = tuple(code for code, s in STATES.items() if s.is_open and code != "draft")
DECIDED_STATES = ("accepted", "rejected", "not_eligible", "changes_requested")
# States in which the collective's members assess it (review.policy.can_assess).
ASSESSED_STATES = ("in_review", "scheduled")

transition = MACHINE.transition
allowed = MACHINE.allowed
available = MACHINE.available  # the transitions these capacities may take (the page's buttons)
label = MACHINE.label
# The state of a proposal on a session's agenda (its item's vote may open).
SCHEDULED = MACHINE.target("schedule")
