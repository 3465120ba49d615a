"""Property-based hostile input on the forms of proposals, arbitration, projects and
immersions (see tests/security/hostile.py for the values and the checks).

For every form: random and hostile values (oversized text, control characters, script
payloads, SQL-like strings, wrong types, missing fields, unknown ids, dates out of range)
get a 4xx and never a 5xx; a refusal writes nothing; what is accepted is shown inert on
the pages that display it. tests/core/test_hostile_input.py keeps the hand-written
regressions.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from incubator.extensions import db
from incubator.review.models import AgendaItem
from incubator.review.settings import settings_for
from incubator.timeutil import today_paris
from tests.dates import working_span
from tests.factories import make_session
from tests.security.hostile import Case, F, run_case

TEXT = F("text", ("Un texte assez long pour être accepté par le formulaire.", ""))
LONG_TEXT = F("text", ("Le collectif a examiné la proposition au regard des critères publiés : "
                       "elle répond à un besoin réel et reste réalisable.",))
REASON = F("text", ("Une raison suffisamment détaillée.",))
TITLE = F("text", ("Un carnet numérique des bâtiments",))


def _days(n: int) -> str:
    return (today_paris() + timedelta(days=n)).isoformat()


def _theme(world, _target):
    return [str(world.ids["theme"]), ""]


PROPOSAL_FIELDS = {
    "title": TITLE,
    "theme_id": F("int", _theme),
    "coauthor_emails": F("email", ("", "agent@x.fr", "agent@x.fr, member2@x.fr")),
    "intent": F("choice", ("draft", "submit")),
}
INITIATIVE_FIELDS = {**PROPOSAL_FIELDS, **{name: TEXT for name in ("problem", "change", "beneficiaries", "gain", "needs")}}
OFFER_FIELDS = {
    **PROPOSAL_FIELDS,
    "host_org_unit_id": F("int", lambda w, _t: [str(w.unit.id)]),
    "mission": TEXT, "learning": TEXT, "contribution": TEXT,
    "duration_days": F("int", ("3", "5", "")),
    "window_starts_on": F("date", lambda _w, _t: [_days(100)]),
    "window_ends_on": F("date", lambda _w, _t: [_days(160)]),
    "places": F("int", ("1", "2")),
    "open_to": F("choice", ("institution", "partners")),
    "contact_email": F("email", ("author@x.fr", "")),
}


def _proposal_pages(world, target):
    pid = target.get("proposal", world.ids["proposal"])
    return [f"/propositions/{pid}", f"/propositions/{pid}/versions", "/mes-propositions", "/propositions",
            "/propositions?q=carnet", "/propositions/similaires?title=carnet"]


def _draft_pages(world, target):
    return [*_proposal_pages(world, target), f"/propositions/{target['proposal']}/modifier"]


def _item_pages(world, _target):
    return [f"/arbitrage/seances/{world.ids['session']}", "/arbitrage/journal", "/arbitrage"]


def _reasons(world):
    return settings_for(world.institution.id).ineligibility_reasons


def _no_vote_in_progress(world) -> dict:
    """The rules do not change during a vote: put the world's open vote back on the agenda."""
    db.session.get(AgendaItem, world.ids["voting_item"]).status = "pending"
    return {}


def _fresh_session(world) -> int:
    return make_session(world.institution, created_by=world.people["coordinator"]).id


CASES = [
    # ------------------------------------------------------------------ proposals
    Case("proposals.new_initiative", "author", "/propositions/nouvelle", INITIATIVE_FIELDS,
         pages=["/mes-propositions", "/propositions"]),
    Case("proposals.new_offer", "author", "/propositions/nouvelle-offre", OFFER_FIELDS,
         pages=["/mes-propositions", "/propositions", "/immersions"]),
    Case("proposals.edit", "author", lambda w, t: f"/propositions/{t['proposal']}/modifier", INITIATIVE_FIELDS,
         prepare=lambda w: {"proposal": w.fresh_proposal("draft")}, pages=_draft_pages),
    Case("proposals.edit (offre)", "member", lambda w, t: f"/propositions/{t['proposal']}/modifier",
         {**OFFER_FIELDS, "contact_email": F("email", ("member@x.fr", ""))},
         prepare=lambda w: {"proposal": w.fresh_proposal("draft", author="member", kind="mobility")},
         pages=_draft_pages),
    Case("proposals.comment", "agent", lambda w, t: f"/propositions/{w.ids['proposal']}/commentaires",
         {"body": F("text", ("Bonne idée, je soutiens.",))}, pages=_proposal_pages, htmx=True),
    Case("proposals.hide_comment", "coordinator",
         lambda w, t: f"/propositions/{w.ids['proposal']}/commentaires/{t['comment']}/masquer",
         {"reason": REASON}, prepare=lambda w: {"comment": w.fresh_comment()}, pages=_proposal_pages),
    Case("proposals.answer_invitation", "agent", lambda w, t: f"/propositions/{t['proposal']}/invitation",
         {"answer": F("choice", ("accept", "decline"))},
         prepare=lambda w: {"proposal": w.fresh_proposal("submitted", invited=(w.people["agent"],))},
         pages=lambda w, t: [f"/propositions/{t['proposal']}", "/mes-propositions"]),
    Case("proposals.themes", "admin", "/admin/themes", {"name": F("text", ("Mobilités douces",))},
         pages=["/admin/themes", "/propositions", "/propositions/nouvelle"]),
    # ------------------------------------------------------------------ arbitration
    Case("review.settings", "coordinator", "/arbitrage/reglages", {
        "decision_rule": F("choice", ("majority", "consent")),
        "quorum_percent": F("int", ("50", "1", "100")),
        "votes_public": F("bool", ("y", "")),
        "target_days": F("int", ("60", "365")),
        "ineligibility_reasons": F("text", ("Hors du champ de l'administration\nDoublon d'une proposition existante",)),
    }, prepare=lambda w: _no_vote_in_progress(w),
       pages=["/arbitrage", "/arbitrage/reglages", "/arbitrage/recevabilite"]),
    Case("review.criterion (nouveau)", "coordinator", "/arbitrage/criteres/nouveau", {
        "name": F("text", ("Utilité pour les usagers",)), "description": LONG_TEXT,
        "weight": F("int", ("1", "10")), "is_active": F("bool", ("y", "")),
    }, pages=lambda w, t: ["/arbitrage", "/arbitrage/reglages", f"/arbitrage/evaluer/{w.ids['in_review']}"]),
    Case("review.criterion (modifier)", "coordinator", lambda w, t: f"/arbitrage/criteres/{w.ids['criterion']}", {
        "name": F("text", ("Faisabilité",)), "description": LONG_TEXT,
        "weight": F("int", ("3",)), "is_active": F("bool", ("y",)),
    }, pages=lambda w, t: ["/arbitrage", "/arbitrage/reglages", f"/arbitrage/criteres/{w.ids['criterion']}",
                           f"/arbitrage/evaluer/{w.ids['in_review']}"]),
    Case("review.open_review", "coordinator", lambda w, t: f"/arbitrage/recevabilite/{t['proposal']}/ouvrir",
         {"ok-rationale": F("text", ("", "La proposition est recevable et entre en instruction."))},
         prepare=lambda w: {"proposal": w.fresh_proposal("submitted")},
         pages=lambda w, t: [f"/propositions/{t['proposal']}", "/arbitrage/journal"]),
    Case("review.declare_ineligible", "coordinator",
         lambda w, t: f"/arbitrage/recevabilite/{t['proposal']}/non-recevable", {
             "ne-reason": F("choice", lambda w, t: _reasons(w)),
             "ne-duplicate_of_id": F("int", lambda w, t: [str(w.ids["proposal"]), ""]),
             "ne-rationale": LONG_TEXT,
         }, prepare=lambda w: {"proposal": w.fresh_proposal("submitted")},
         pages=lambda w, t: [f"/propositions/{t['proposal']}", "/arbitrage/journal",
                             "/arbitrage/journal?format=csv"]),
    Case("review.assess", "member", lambda w, t: f"/arbitrage/evaluer/{w.ids['in_review']}", lambda w: {
        f"criterion_{w.ids['criterion']}": F("int", ("1", "3", "5")),
        "comment": F("text", ("Une évaluation argumentée.", "")),
    }, pages=lambda w, t: [f"/arbitrage/evaluer/{w.ids['in_review']}", "/arbitrage/a-evaluer",
                           f"/propositions/{w.ids['in_review']}"]),
    Case("review.declare_conflict", "member", lambda w, t: f"/arbitrage/conflit/{t['proposal']}",
         {"reason": REASON}, prepare=lambda w: {"proposal": w.fresh_proposal("in_review")},
         pages=lambda w, t: [f"/arbitrage/evaluer/{t['proposal']}", "/arbitrage/a-evaluer"]),
    Case("review.sessions", "coordinator", "/arbitrage/seances", {
        "starts_on": F("date", lambda _w, _t: [_days(10)]),
        "starts_time": F("time", ("18:00", "09:30")),
        "place": F("text", ("Salle du conseil", "")),
        "video_link": F("choice", ("", "https://visio.exemple.fr/salle")),
    }, pages=["/arbitrage/seances", "/notifications"]),
    Case("review.schedule", "coordinator", lambda w, t: f"/arbitrage/seances/{w.ids['session']}/ordre-du-jour",
         {"proposal_id": F("int", lambda w, t: [str(t["proposal"])])},
         prepare=lambda w: {"proposal": w.fresh_proposal("in_review")}, pages=_item_pages),
    Case("review.attendance", "coordinator", lambda w, t: f"/arbitrage/seances/{t['session']}/presences",
         {"present": F("multi", lambda w, t: [str(w.people["member"].id), str(w.people["member2"].id)])},
         prepare=lambda w: {"session": _fresh_session(w)},
         pages=lambda w, t: [f"/arbitrage/seances/{t['session']}"]),
    Case("review.vote", "member", lambda w, t: f"/arbitrage/points/{w.ids['voting_item']}/voter", {
        "choice": F("choice", ("for", "against", "abstain")),
        "reason": F("text", ("", "Je m'abstiens car le budget manque.")),
    }, pages=_item_pages, htmx=True),
    Case("review.publish", "coordinator", lambda w, t: f"/arbitrage/points/{t['item']}/publier", {
        "outcome": F("choice", ("accepted", "changes_requested")), "rationale": LONG_TEXT,
    }, prepare=lambda w: {"item": w.fresh_closed_item()},
       pages=lambda w, t: [*_item_pages(w, t), "/arbitrage/journal?format=csv", "/realisations"]),
    Case("review.correct", "coordinator", lambda w, t: f"/arbitrage/decisions/{t['decision']}/corriger", {
        "rationale": LONG_TEXT,
    }, prepare=lambda w: {"decision": w.fresh_decision()},
       pages=lambda w, t: ["/arbitrage/journal", "/realisations"]),
    Case("review.designate_substitute", "admin",
         lambda w, t: f"/arbitrage/propositions/{t['proposal']}/suppleance",
         {"email": F("email", ("member2@x.fr", "member@x.fr"))},
         prepare=lambda w: {"proposal": w.fresh_proposal("submitted")},
         pages=lambda w, t: [f"/propositions/{t['proposal']}", f"/arbitrage/propositions/{t['proposal']}/suppleance"]),
    # ------------------------------------------------------------------ projects
    Case("projects.edit_charter", "author", lambda w, t: f"/projets/{t['project']}/lettre-de-mission/modifier", {
        "sponsor_email": F("email", ("",)),
        "lead_email": F("email", ("author@x.fr", "")),
        "objectives": TEXT, "indicators": TEXT,
        "starts_on": F("date", lambda _w, _t: [_days(1), ""]),
        "ends_on": F("date", lambda _w, _t: [_days(200), ""]),
        # The team: agents chosen by id (their role and hours fields are named after the id).
        "membres": F("choice", lambda w, _t: [str(w.people["author"].id), ""]),
    }, prepare=lambda w: {"project": w.fresh_project("framing")},
       pages=lambda w, t: [f"/projets/{t['project']}", f"/projets/{t['project']}/lettre-de-mission",
                           f"/projets/{t['project']}/lettre-de-mission/modifier"]),
    Case("projects.add_milestone", "author", lambda w, t: f"/projets/{w.ids['project']}/jalons", {
        "jalon-title": F("text", ("Premier prototype",)),
        "jalon-due_on": F("date", lambda _w, _t: [_days(30)]),
    }, pages=lambda w, t: [f"/projets/{w.ids['project']}", "/realisations"]),
    Case("projects.add_progress", "author", lambda w, t: f"/projets/{w.ids['project']}/avancement", {
        "avancement-text": F("text", ("Le prototype est en test dans deux bâtiments.",)),
        "avancement-progress": F("int", ("0", "40", "100")),
        "avancement-indicator_values": F("text", ("", "Délai moyen : 4 jours")),
    }, pages=lambda w, t: [f"/projets/{w.ids['project']}", "/realisations"]),
    Case("projects.hold_or_resume", "author", lambda w, t: f"/projets/{t['project']}/pause",
         {"motif-reason": REASON}, prepare=lambda w: {"project": w.fresh_project()},
         pages=lambda w, t: [f"/projets/{t['project']}", "/realisations"]),
    Case("projects.close", "author", lambda w, t: f"/projets/{t['project']}/cloture", {
        "cloture-action": F("choice", ("complete", "abandon")),
        **{f"cloture-{name}": F("text", ("Un retour d'expérience utile.",))
           for name in ("worked", "did_not_work", "reusable", "indicators_reached")},
    }, prepare=lambda w: {"project": w.fresh_project()},
       pages=lambda w, t: [f"/projets/{t['project']}", "/realisations"]),
    # ------------------------------------------------------------------ immersions
    Case("immersions.apply", "author", lambda w, t: f"/immersions/{t['offer']}/candidater", {
        "motivation": F("text", ("Je souhaite découvrir l'accueil des habitants.",)),
        # Two working days in a row, whatever today's weekday (today + 110 may be a Saturday).
        "starts_on": F("date", lambda _w, _t: [working_span(110)[0].isoformat()]),
        "ends_on": F("date", lambda _w, _t: [working_span(110)[1].isoformat()]),
    }, prepare=lambda w: {"offer": w.fresh_offer()}, pages=["/immersions"]),
    Case("immersions.consent", "manager", lambda w, t: f"/immersions/candidatures/{t['application']}/avis", {
        "answer": F("choice", ("consent", "refuse")), "reason": F("text", ("", "Le service est en sous-effectif.")),
    }, prepare=lambda w: {"application": w.fresh_application("submitted")}, pages=["/immersions"]),
    Case("immersions.select", "member", lambda w, t: f"/immersions/candidatures/{t['application']}/selection",
         {"answer": F("choice", ("select", "decline"))},
         prepare=lambda w: {"application": w.fresh_application("consented")}, pages=["/immersions"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_form(case, make_client, login):
    run_case(case, make_client, login)
