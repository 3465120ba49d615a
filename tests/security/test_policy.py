"""The access policy (incubator/policy.py) checked against the real app: every endpoint of
the URL map is in the table, and every persona, anonymous included, is admitted or refused
as the table says; personas of another institution never reach this one's objects."""

from datetime import date, timedelta

import pytest

from incubator.collective.models import CollectiveMembership
from incubator.extensions import db
from incubator.policy import POLICY, PUBLIC
from incubator.timeutil import today_paris
from tests.factories import (
    make_agenda_item,
    make_application,
    make_comment,
    make_criterion,
    make_decision,
    make_institution,
    make_milestone,
    make_notification,
    make_org_unit,
    make_project,
    make_project_member,
    make_proposal,
    make_session,
    make_settings,
    make_theme,
    make_time_entry,
    make_user,
)

PERSONAS = sorted(PUBLIC)


def test_every_endpoint_is_in_the_policy(server):
    endpoints = {rule.endpoint for rule in server.url_map.iter_rules() if rule.endpoint != "static"}
    assert endpoints - set(POLICY) == set(), "endpoints sans règle d'accès dans incubator/policy.py"
    assert set(POLICY) - endpoints == set(), "règles pour des endpoints qui n'existent plus"


def build_world(prefix: str = ""):
    # With the option that opens an agent's engagement record to their N+1 (off by default).
    institution = make_institution(managers_see_engagement=True)
    unit = make_org_unit(institution)
    people = {
        "agent": make_user(org_unit=unit, email=f"{prefix}agent@x.fr"),
        "author": make_user(org_unit=unit, email=f"{prefix}author@x.fr"),
        "member": make_user(org_unit=unit, collective=True, email=f"{prefix}member@x.fr"),
        "coordinator": make_user(org_unit=unit, collective=True, roles=["coordinator"], email=f"{prefix}coord@x.fr"),
        "hr": make_user(org_unit=unit, roles=["hr"], email=f"{prefix}hr@x.fr"),
        "admin": make_user(org_unit=unit, roles=["admin"], email=f"{prefix}admin@x.fr"),
        "instance_admin": make_user(org_unit=unit, roles=["admin"], is_instance_admin=True, email=f"{prefix}root@x.fr"),
    }
    people["manager"] = make_user(org_unit=unit, email=f"{prefix}manager@x.fr")
    people["author"].manager = people["manager"]
    make_settings(institution)
    author, agent, member = people["author"], people["agent"], people["member"]
    proposal = make_proposal(author=author, state="submitted", invited=(agent,))
    draft = make_proposal(author=author, state="draft")
    scheduled = make_proposal(author=agent, state="scheduled")
    accepted = make_proposal(author=agent, state="accepted")
    offer = make_proposal(author=member, kind="mobility", state="accepted", open_to="institution",
                          window_starts_on=today_paris() + timedelta(days=100),
                          window_ends_on=today_paris() + timedelta(days=160))
    # An internal immersion of the author, hosted by the member: its sheet (convention).
    hosting = make_proposal(author=member, kind="mobility", state="accepted", open_to="institution",
                            window_starts_on=date(2027, 3, 1), window_ends_on=date(2027, 3, 31))
    comment = make_comment(proposal, agent)
    project = make_project(institution, title="Projet", proposal=accepted, lead=author, members=(author,),
                           hours_budget=10)
    milestone = make_milestone(project, title="Jalon", due_on=today_paris())
    immersion = make_project(institution, kind="immersion", title="Immersion", proposal=hosting, lead=member,
                             starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 3))
    make_project_member(immersion, author, role="Agent en immersion", hours_budget=21)
    session = make_session(institution, created_by=people["coordinator"])
    item = make_agenda_item(session, scheduled, position=1)
    decision = make_decision(accepted, kind="session", outcome="accepted", rationale="Motivation.",
                             decided_by=people["coordinator"])
    application = make_application(offer, author, manager=people["manager"], motivation="x",
                                   starts_on=offer.window_starts_on, ends_on=offer.window_starts_on, working_days=1)
    make_application(hosting, author, manager=people["manager"], motivation="x", starts_on=date(2027, 3, 1),
                     ends_on=date(2027, 3, 3), working_days=3, status="selected", project_id=immersion.id)
    entry = make_time_entry(author, project, day=today_paris(), minutes=60, status="submitted")
    notification = make_notification(author, subject="x", body="x")
    membership = db.session.query(CollectiveMembership).filter_by(user_id=member.id).one()
    ids = {
        "proposal_id": proposal.id, "comment_id": comment.id, "project_id": project.id,
        "milestone_id": milestone.id, "session_id": session.id, "item_id": item.id,
        "decision_id": decision.id, "offer_id": offer.id, "application_id": application.id,
        "notification_id": notification.id, "theme_id": make_theme(institution).id,
        "criterion_id": make_criterion(institution).id, "membership_id": membership.id,
        "user_id": author.id, "unit_id": unit.id, "action": "pause", "provider": "proconnect",
        "token": "jeton-inconnu",
    }
    overrides = {"proposals.edit": {"proposal_id": draft.id}, "proposals.submit": {"proposal_id": draft.id},
                 "immersions.convention": {"project_id": immersion.id}}
    bodies = {"release_time.decide": {"entry": str(entry.id), "action": "approve"}}
    return people, ids, overrides, bodies


def _requests(server, ids, overrides):
    """(endpoint, method, url) for every rule: GET when the rule accepts it, else POST."""
    out = []
    for rule in server.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {arg: overrides.get(rule.endpoint, {}).get(arg, ids[arg]) for arg in rule.arguments}
        method = "GET" if "GET" in rule.methods else "POST"
        with server.test_request_context():
            url = server.url_map.bind("localhost").build(rule.endpoint, values, method=method)
        # (a single sign-on provider is configured for the instance, not an object of an institution;
        # a token (reset, invitation link) is no object of an institution: the link is the key)
        out.append((rule.endpoint, method, url, bool(set(rule.arguments) - {"action", "provider", "token"})))
    # Logging out last, so that it does not end the persona's session for the others.
    return sorted(out, key=lambda r: (r[0] == "accounts.logout", r[0], r[2]))


def _unsafe_response(response, server) -> list[str]:
    """Every answer, page, fragment, file or error, carries the security headers; HTML has
    no inline script or style; nothing shows a stack trace or the secret key."""
    found = []
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    if "script-src 'self'" not in csp or "'unsafe-inline'" in csp or "frame-ancestors 'none'" not in csp:
        found.append(f"CSP manquante ou trop large : {csp!r}")
    for name, value in (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY")):
        if headers.get(name) != value:
            found.append(f"en-tête {name} = {headers.get(name)!r}")
    # Same-origin everywhere; none at all from the pages whose address or form carries a token.
    if headers.get("Referrer-Policy") not in ("same-origin", "no-referrer"):
        found.append(f"en-tête Referrer-Policy = {headers.get('Referrer-Policy')!r}")
    body = response.get_data(as_text=True) if not response.is_streamed else ""
    if "text/html" in headers.get("Content-Type", ""):
        if "<script>" in body or " style=" in body or " onclick=" in body:
            found.append("script ou style en ligne")
    if "Traceback" in body or server.secret_key in body:
        found.append("trace d'erreur ou clé secrète dans la réponse")
    return found


def _refused(status: int) -> bool:
    return status in (401, 403, 404)


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_against_every_endpoint(persona, server, make_client, login):
    people, ids, overrides, bodies = build_world()
    client = make_client()
    if persona != "anonymous":
        login(client, people[persona])
    problems = []
    for endpoint, method, url, _has_object in _requests(server, ids, overrides):
        response = client.open(url, method=method, data=bodies.get(endpoint, {}))
        status = response.status_code
        problems += [f"{method} {url}: {p}" for p in _unsafe_response(response, server)]
        if status >= 500:
            problems.append(f"{method} {url}: {status}")
        elif persona == "anonymous" and endpoint not in ("accounts.logout",) and persona not in POLICY[endpoint]:
            if not (status == 302 and response.headers["Location"].startswith("/connexion")):
                problems.append(f"{method} {url}: {status}, attendu une redirection vers la connexion")
        elif persona in POLICY[endpoint] and _refused(status):
            problems.append(f"{method} {url}: {status}, attendu admis")
        elif persona not in POLICY[endpoint] and persona != "anonymous" and not _refused(status):
            problems.append(f"{method} {url}: {status}, attendu refusé (403/404)")
    assert problems == []


@pytest.mark.parametrize("persona", ["agent", "member", "coordinator", "hr", "admin", "instance_admin"])
def test_another_institutions_people_never_reach_these_objects(persona, server, make_client, login):
    _people, ids, overrides, bodies = build_world()
    outsiders, _ids, _o, _b = build_world(prefix="b-")
    client = make_client()
    login(client, outsiders[persona])
    problems = []
    for endpoint, method, url, has_object in _requests(server, ids, overrides):
        if not has_object:
            continue  # no object of the other institution in this address
        status = client.open(url, method=method, data=bodies.get(endpoint, {})).status_code
        if not _refused(status):
            problems.append(f"{method} {url}: {status}")
    assert problems == []
