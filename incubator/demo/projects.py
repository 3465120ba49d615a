"""Projects in every state (from the accepted demo proposals), with milestones, progress
updates and retrospectives; the published offers with applications at each step."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from ..audit.models import AuditEvent
from ..extensions import db
from ..immersions.models import Application
from ..people.models import User
from ..projects.models import Milestone, ProgressUpdate, Project, ProjectMember, Retrospective
from ..proposals.models import Proposal
from ..timeutil import today_paris, utcnow
from ..workdays import working_days

STATES = ["active", "completed", "on_hold", "active", "framing", "abandoned", "active"]


def seed(named: dict[str, User]) -> None:
    rng = random.Random(99)
    ville = named["agent"].institution
    today = today_paris()
    now = utcnow()
    coordinator = named["animation"]
    agents = db.session.scalars(select(User).where(User.institution_id == ville.id, User.is_active.is_(True))
                                .order_by(User.id)).all()
    accepted = db.session.scalars(select(Proposal).where(
        Proposal.institution_id == ville.id, Proposal.state == "accepted", Proposal.kind == "initiative")
        .order_by(Proposal.state_changed_at)).all()

    def event(project, action, at, actor=coordinator, data=None):
        db.session.add(AuditEvent(institution_id=ville.id, actor_id=actor.id, action=f"project.{action}",
                                  target_type="Project", target_id=project.id, data=data or {},
                                  is_public=True, created_at=at))

    def sponsor_for(lead: User) -> User:
        """The lead's N+2, else N+1, else the first agent: never the lead, nor the coordinator
        who validates the charter (lead, sponsor and validator are three people)."""
        manager = lead.manager
        for candidate in ([manager.manager] if manager else []) + [manager] + agents:
            if candidate is not None and candidate.id not in (lead.id, coordinator.id):
                return candidate
        raise RuntimeError("no sponsor for the demo project")

    for index, proposal in enumerate(accepted):
        state = STATES[index % len(STATES)]
        created = proposal.state_changed_at
        starts = (created + timedelta(days=20)).date()
        project = Project(institution_id=ville.id, kind="initiative", state=state, title=proposal.title,
                          proposal_id=proposal.id, lead_id=proposal.author_id,
                          sponsor_id=sponsor_for(proposal.author).id,
                          objectives=proposal.change, indicators=proposal.gain,
                          starts_on=starts, ends_on=starts + timedelta(days=rng.choice([120, 180, 240])),
                          created_at=created, state_changed_at=created + timedelta(days=25))
        project.members.append(ProjectMember(user=proposal.author, role="Cheffe ou chef de projet", hours_budget=rng.choice([40, 60, 80])))
        for helper in rng.sample(agents, k=2):
            if helper.id != proposal.author_id:
                project.members.append(ProjectMember(user=helper, role=rng.choice(["Référent usagers", "Appui technique", "Membre de l'équipe"]), hours_budget=rng.choice([20, 30, 40])))
        if state == "framing":
            project.sponsor_id = None
            project.starts_on = project.ends_on = None
        else:
            project.charter_validated_at = created + timedelta(days=15)
            project.charter_validated_by_id = coordinator.id
        db.session.add(project)
        db.session.flush()
        event(project, "created", created)
        if state == "framing":
            continue
        event(project, "validate_charter", project.charter_validated_at)
        for k, title in enumerate(["Diagnostic partagé avec les services", "Prototype testé sur un site pilote",
                                   "Bilan et généralisation"]):
            due = starts + timedelta(days=40 * (k + 1))
            done = due - timedelta(days=3) if (due < today - timedelta(days=10) or state == "completed") else None
            project.milestones.append(Milestone(title=title, due_on=due, done_on=done))
        progress = {"active": rng.choice([35, 50, 65]), "on_hold": 40, "completed": 100, "abandoned": 25}[state]
        project.progress = progress
        for k, value in enumerate(range(15, progress + 1, 25)):
            db.session.add(ProgressUpdate(project_id=project.id, author_id=proposal.author_id, progress=value,
                                          text=rng.choice(["Réunion de lancement avec les services concernés ; le calendrier est partagé.",
                                                           "Premier test sur site : bons retours des agents, deux ajustements à faire.",
                                                           "Le prototype est stabilisé ; la généralisation est en préparation."]),
                                          created_at=project.charter_validated_at + timedelta(days=20 * (k + 1))))
            event(project, "progress", project.charter_validated_at + timedelta(days=20 * (k + 1)), actor=proposal.author)
        if state == "on_hold":
            project.hold_reason = "En attente du vote du budget supplémentaire pour l'achat du matériel."
            event(project, "hold", now - timedelta(days=12), actor=proposal.author)
        if state in ("completed", "abandoned"):
            db.session.add(Retrospective(
                project_id=project.id, author_id=proposal.author_id, created_at=now - timedelta(days=5),
                worked="L'implication des agents de terrain dès le diagnostic ; un commanditaire disponible.",
                did_not_work="Le calendrier était trop serré pendant l'été ; l'outil choisi d'abord ne convenait pas."
                if state == "completed" else "Le besoin a disparu avec la réorganisation du service ; l'équipe s'est dispersée.",
                reusable="La trame de diagnostic et le questionnaire aux usagers, disponibles auprès de la mission innovation.",
                indicators_reached="Délai moyen divisé par deux sur le site pilote." if state == "completed" else "Non mesurés."))
            event(project, "complete" if state == "completed" else "abandon", now - timedelta(days=5), actor=proposal.author)

    # Applications to the published offers, one at each step.
    offers = db.session.scalars(select(Proposal).where(
        Proposal.institution_id == ville.id, Proposal.state == "accepted", Proposal.kind == "mobility")
        .order_by(Proposal.id)).all()
    applicants = [a for a in agents if a.manager_id and a.email not in {u.email for u in named.values()}]
    plan = {0: ["submitted", "consented", "refused"], 1: ["selected", "not_selected"]}
    n = 0
    for index, offer in enumerate(offers):
        if "selected" in plan.get(index, []):
            offer.places = 1  # its one place is taken: a full offer (« Complète »), out of the open offers
        for status in plan.get(index, []):
            applicant = applicants[n % len(applicants)]
            n += 1
            if applicant.id in (offer.author_id, offer.contact_id) or not applicant.manager_id:
                continue
            start = offer.window_starts_on + timedelta(days=7 * n)
            end = start + timedelta(days=(offer.duration_days or 3) + 1)
            application = Application(offer_id=offer.id, applicant_id=applicant.id, manager_id=applicant.manager_id,
                                      motivation="Je souhaite découvrir ce métier et mieux orienter les habitants que je reçois.",
                                      starts_on=start, ends_on=end, working_days=working_days(start, end),
                                      status=status, created_at=now - timedelta(days=10))
            if status == "refused":
                application.manager_reason = "Période de forte activité dans le service : reposez la demande à l'automne."
            if status != "submitted":
                application.decided_at = now - timedelta(days=5)
            db.session.add(application)
            db.session.flush()
            if status == "selected":
                project = Project(institution_id=ville.id, kind="immersion", state="active",
                                  title=f"Immersion de {applicant.full_name} : {offer.title}", proposal_id=offer.id,
                                  lead_id=offer.contact_id or offer.author_id, host_org_unit_id=offer.host_org_unit_id,
                                  objectives=offer.mission, indicators=offer.learning, starts_on=start, ends_on=end,
                                  charter_validated_at=now - timedelta(days=5), charter_validated_by_id=offer.author_id)
                project.members.append(ProjectMember(user=applicant, role="Agent en immersion",
                                                     hours_budget=application.working_days * 7))
                db.session.add(project)
                db.session.flush()
                application.project_id = project.id
                event(project, "created", now - timedelta(days=5), actor=offer.author)
    db.session.flush()
