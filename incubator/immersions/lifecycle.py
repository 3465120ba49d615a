"""The lifecycle of an application to an immersion. Who acts: the applicant's N+1 (recorded
on the application when it was made), then the host (the offer's author, its contact, or the
author's N+1: immersions.policy.host_ids)."""

from __future__ import annotations

from ..statemachine import Lifecycle, State, Transition  # noqa: F401  (re-exported)
from ..statemachine import t as _t

# An agent's application to a published mobility offer (an immersion). Who acts: the
# applicant's N+1 (recorded on the application when it was made), then the host (the
# offer's author, its contact, or the author's N+1: projects.policy.host_ids).
APPLICANT = "applicant"

MANAGER = "manager"

HOST = "host"

APPLICATION_STATUSES = {
    "submitted": ("En attente de l'avis du N+1", "info"),
    "consented": ("Accord du N+1 : en attente du service d'accueil", "info"),
    "refused": ("Refusée par le N+1", "danger"),
    "selected": ("Retenue : immersion programmée", "success"),
    "not_selected": ("Non retenue par le service d'accueil", "neutral"),
    "withdrawn": ("Retirée", "neutral"),  # kept for stored rows; no action leads there today
}

APPLICATION_TRANSITIONS = [
    _t("consent", "submitted", "consented", {MANAGER}, "Donner mon accord"),
    _t("refuse", "submitted", "refused", {MANAGER}, "Refuser"),
    _t("select", "consented", "selected", {HOST}, "Retenir"),
    _t("decline", "consented", "not_selected", {HOST}, "Ne pas retenir"),
]

APPLICATIONS = Lifecycle({code: State(code, label, tone) for code, (label, tone) in APPLICATION_STATUSES.items()},
                         APPLICATION_TRANSITIONS, column="status",
                         refused="Vous ne pouvez pas faire cette action sur cette candidature.",
                         impossible="Action impossible : la candidature est « {label} ».")
