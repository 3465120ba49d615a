"""The long lists read rows, not objects: loading twenty proposals, decisions or projects
with their people as ORM objects cost more than the rest of their page (bench, issue 21).
So do the threads and histories that grow with time (comments, public events).
Counted, not timed: which objects a request loads is the same on every machine."""

from collections import Counter
from contextlib import contextmanager
from datetime import date

from sqlalchemy import event
from sqlalchemy.orm import Mapper

from incubator.audit.services import record
from tests.factories import (
    make_comment,
    make_decision,
    make_many_proposals,
    make_milestone,
    make_project,
    make_proposal,
    make_session,
    make_theme,
    make_user,
)
from tests.helpers import text


@contextmanager
def loaded_objects():
    """The ORM objects loaded from the database meanwhile, counted by class."""
    loaded: Counter = Counter()

    def on_load(target, _context):
        loaded[type(target).__name__] += 1

    event.listen(Mapper, "load", on_load)
    try:
        yield loaded
    finally:
        event.remove(Mapper, "load", on_load)


def test_lists_load_their_rows_not_objects(client, login):
    agent = make_user(roles=["coordinator"], collective=True)
    institution = agent.institution
    make_theme(institution, "Mobilités")
    make_many_proposals(agent, 30)
    commented = make_proposal(author=agent, state="in_review", title="Fontaines à eau")
    for n in range(25):
        make_comment(commented, author=agent, body=f"Avis numéro {n}")
    for action in ("proposal.submitted", "review.opened"):
        record(action, actor=agent, institution_id=institution.id, target=commented, public=True)
    session = make_session(institution, days_ahead=-3)
    for n in range(30):
        make_decision(make_proposal(author=agent, state="accepted", title=f"Retenue {n}"), session_id=session.id,
                      decided_by=agent)
    for n in range(25):
        project = make_project(institution, title=f"Projet {n}", lead=agent)
        make_milestone(project, title="Lancement", due_on=date(2026, 3, 2))
    login(client, agent)
    for path, shown in [("/propositions", "Retenue 29"), ("/propositions?tri=supported", "Proposition générée 16"),
                        ("/arbitrage/journal", "Retenue 29"),
                        ("/realisations", "Projet 24"), (f"/propositions/{commented.id}", "Avis numéro 24"),
                        (f"/propositions/{commented.id}", f"Déclarée recevable : instruction ouverte par {agent.full_name}."),
                        ("/arbitrage", agent.full_name)]:
        with loaded_objects() as loaded:
            response = client.get(path)
        assert response.status_code == 200 and shown in text(response), path
        # The signed-in person's session, account, roles and institution, and on a
        # proposal's page the proposal itself with its people: nothing per row of a list.
        rows_as_objects = {name: count for name, count in loaded.items()
                           if name in ("Proposal", "Decision", "Project", "Milestone", "Comment",
                                       "CollectiveMembership", "Theme", "OrgUnit", "AuditEvent")}
        allowed = {"Proposal": 1, "OrgUnit": 1} if path.startswith("/propositions/") else {}
        assert all(count <= allowed.get(name, 0) for name, count in rows_as_objects.items()), (path, loaded)
