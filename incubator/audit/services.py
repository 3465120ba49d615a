"""The helpers services call to write an audit event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, event, insert, select

from ..dbutil import prebuilt
from ..extensions import db
from ..timeutil import utcnow
from ..web import writing_apart
from .models import AuditEvent


def record(
    action: str,
    *,
    actor: Any | None,
    institution_id: int | None,
    target: Any | None = None,
    data: dict[str, Any] | None = None,
    public: bool = False,
) -> AuditEvent:
    """Add an audit event to the caller's transaction (the caller commits)."""
    event_row = AuditEvent(
        institution_id=institution_id,
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=type(target).__name__ if target is not None else None,
        target_id=getattr(target, "id", None),
        data=data or {},
        is_public=public,
    )
    db.session.add(event_row)
    return event_row


def record_many(events: list[dict[str, Any]]) -> None:
    """Many events in one statement, in the caller's transaction (a directory sync touching
    thousands of agents): each dict holds record()'s keyword arguments."""
    if not events:
        return
    now = utcnow()
    db.session.execute(insert(AuditEvent), [dict(
        institution_id=e["institution_id"], actor_id=getattr(e.get("actor"), "id", None),
        action=e["action"],
        target_type=type(e["target"]).__name__ if e.get("target") is not None else None,
        target_id=getattr(e.get("target"), "id", None), data=e.get("data") or {},
        is_public=e.get("public", False), created_at=now) for e in events])


def record_read(
    action: str,
    *,
    actor: Any,
    institution_id: int | None,
    target: Any | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Log that someone read something (an HR read of an agent's record), at once, in a
    transaction of its own: the log stays even if the page then fails, and the request's
    own transaction stays a read. On SQLite a read transaction that starts writing cannot
    wait for the write lock: under load it would fail ("database is locked"); this one
    queues with the writers (web.writing_apart)."""
    with writing_apart(), db.engine.begin() as connection:
        connection.execute(_insert_event(), {
            "institution_id": institution_id,
            "actor_id": actor.id,
            "action": action,
            "target_type": type(target).__name__ if target is not None else None,
            "target_id": getattr(target, "id", None),
            "data": data or {},
            "is_public": False,
            "created_at": utcnow(),
        })


@prebuilt
def _insert_event():
    # Built once, its values given at execution: every page of the HR report runs it, and
    # building the statement with its values cost more than writing the row.
    return insert(AuditEvent.__table__)


# Entries that carry the client's address ("address" in their data).
SIGN_IN_ACTIONS = ("auth.login",)


def forget_sign_in_addresses(before: datetime) -> int:
    """The one change ever made to audit events: sign-in entries older than `before` lose the
    client's address (personal data kept as long as security needs it, then no longer); the
    entry itself, its date and its author stay. Returns how many entries lost it."""
    rows = db.session.execute(select(AuditEvent.id, AuditEvent.data).where(
        AuditEvent.action.in_(SIGN_IN_ACTIONS), AuditEvent.created_at < before)).all()
    changes = [{"event_id": event_id, "new_data": {k: v for k, v in data.items() if k != "address"}}
               for event_id, data in rows if data and "address" in data]
    if changes:
        table = AuditEvent.__table__
        db.session.execute(table.update().where(table.c.id == bindparam("event_id"))
                           .values(data=bindparam("new_data")), changes)
    return len(changes)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_changes(_mapper, _connection, target: AuditEvent) -> None:
    raise RuntimeError(f"Audit events are append-only (event {target.id}).")


# French labels for the admin view; unknown actions are shown as their code.
ACTION_LABELS = {
    "auth.login": "Connexion",
    "auth.logout": "Déconnexion",
    "project.created": "Projet ouvert",
    "auth.login_refused": "Connexion refusée",
    "auth.password_changed": "Mot de passe modifié",
    "auth.identity_linked": "Connexion unique reliée au compte",
    "user.provisioned": "Compte créé à la première connexion unique",
    "institution.sign_in_settings_changed": "Réglages de connexion modifiés",
    "auth.password_reset_requested": "Réinitialisation du mot de passe demandée",
    "auth.password_reset": "Mot de passe réinitialisé par lien",
    "account.invited": "Invitation envoyée",
    "account.activation_sheet": "Fiche d'activation imprimée",
    "account.activated": "Compte activé",
    "institution.created": "Collectivité créée",
    "org_unit.created": "Direction ou service créé",
    "org_unit.renamed": "Direction ou service renommé",
    "org_unit.moved": "Direction ou service déplacé",
    "org_unit.closed": "Direction ou service fermé",
    "org_unit.reopened": "Direction ou service rouvert",
    "user.created": "Agent créé",
    "directory.synced": "Synchronisation avec l'annuaire",
    "user.updated": "Agent modifié",
    "user.deactivated": "Compte désactivé",
    "user.reactivated": "Compte réactivé",
    "user.password_set": "Mot de passe défini par l'administration",
    "user.roles_changed": "Rôles modifiés",
    "collective.member_added": "Membre du collectif ajouté",
    "collective.member_ended": "Mandat au collectif terminé",
    "agents.imported": "Import d'agents",
    "institution.settings_changed": "Paramètres de la collectivité modifiés",
    "org_units.imported": "Import de directions et services",
    "proposal.created": "Brouillon créé",
    "proposal.edited": "Proposition modifiée",
    "proposal.submitted": "Proposition déposée",
    "proposal.resubmitted": "Version révisée déposée",
    "proposal.withdrawn": "Proposition retirée",
    "proposal.coauthor_invited": "Co-auteur invité",
    "proposal.coauthor_accepted": "Co-auteur ayant accepté",
    "proposal.coauthor_declined": "Invitation de co-auteur déclinée",
    "comment.hidden": "Commentaire masqué",
    "theme.created": "Thème créé",
    "theme.activated": "Thème réactivé",
    "theme.deactivated": "Thème désactivé",
    "review.settings_changed": "Règles d'arbitrage modifiées",
    "review.criterion_saved": "Critère enregistré",
    "review.opened": "Instruction ouverte",
    "review.not_eligible": "Déclarée non recevable",
    "review.conflict_declared": "Conflit d'intérêts déclaré",
    "review.assessed": "Évaluation",
    "review.assessment_revised": "Évaluation révisée",
    "review.session_created": "Séance créée",
    "review.scheduled": "Inscription en séance",
    "review.attendance_recorded": "Présences enregistrées",
    "review.vote_opened": "Vote ouvert",
    "review.vote_closed": "Vote clos",
    "review.postponed": "Point reporté",
    "review.decided": "Décision publiée",
    "review.corrected": "Décision corrigée (nouvel examen)",
    "review.substitute_designated": "Suppléant·e de l'animation désigné·e",
    "engagement.listed": "Liste des relevés d'engagement consultée (RH)",
    "engagement.viewed": "Relevé d'engagement consulté (RH)",
    "engagement.exported": "Relevé d'engagement exporté (RH)",
    "engagement.viewed_by_manager": "Relevé d'engagement consulté par le N+1",
    "agents.anonymised": "Agents anonymisés (conservation)",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)
