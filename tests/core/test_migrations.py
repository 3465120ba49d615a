"""Data migrations carry stored rows along with the code: tried on a database of their own,
upgraded step by step from the revision before (SQLite; the schema on both databases is
compared with the models in test_config).

Upgrades are safe: a database built at each earlier revision, with data in it, is upgraded
to the head (SQLite, or PostgreSQL with TEST_DATABASE_URL, on a database of this module's
own) and keeps every row and value, with the schema the models describe."""

import os
from datetime import date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, Table, create_engine, inspect, make_url, select, text

from incubator import create_app, normalise_database_url
from incubator.extensions import db
from incubator.proposals.search import KEY_ID_MASK, is_search_index_object
from tests.conftest import TEST_DATABASE_URL, XDIST_WORKER, app_config, worker_database


def test_stored_notification_endpoints_follow_the_immersion_pages(tmp_path):
    app = create_app(app_config(f"sqlite:///{tmp_path / 'migrations.db'}"))
    with app.app_context():
        upgrade(revision="0011")
        db.session.execute(text(
            "INSERT INTO institutions (id, name, slug, kind, accent_color, created_at) "
            "VALUES (1, 'Ville', 'ville', 'commune', '#1f5f8b', '2026-11-30')"))
        db.session.execute(text(
            "INSERT INTO users (id, institution_id, first_name, last_name, email, category, quotite, "
            "is_active, is_instance_admin, created_at) "
            "VALUES (1, 1, 'Ana', 'Agent', 'ana@ville.fr', 'B', 100, 1, 0, '2026-11-30')"))
        for number, endpoint in enumerate(("projects.immersions", "projects.convention", "projects.show"), 1):
            db.session.execute(text(
                "INSERT INTO notifications (id, user_id, category, subject, body, link, link_endpoint, created_at, digest_pending) "
                "VALUES (:id, 1, 'immersions', 'Titre', 'Texte', '/immersions', :endpoint, '2026-11-30', 0)"),
                {"id": number, "endpoint": endpoint})
        db.session.commit()

        upgrade(revision="0012")
        assert _endpoints() == ["immersions.index", "immersions.convention", "projects.show"]
        downgrade(revision="0011")
        assert _endpoints() == ["projects.immersions", "projects.convention", "projects.show"]


def test_the_managers_engagement_setting_is_off_for_existing_institutions_and_goes_away_on_downgrade(tmp_path):
    app = create_app(app_config(f"sqlite:///{tmp_path / 'migrations.db'}"))
    with app.app_context():
        upgrade(revision="0012")
        db.session.execute(text(
            "INSERT INTO institutions (id, name, slug, kind, accent_color, created_at) "
            "VALUES (1, 'Ville', 'ville', 'commune', '#1f5f8b', '2026-11-30')"))
        db.session.commit()

        upgrade(revision="0013")
        assert list(db.session.execute(text("SELECT id, managers_see_engagement FROM institutions"))) == [(1, 0)]
        db.session.execute(text("UPDATE institutions SET managers_see_engagement = 1"))
        db.session.commit()
        downgrade(revision="0012")
        columns = [c["name"] for c in inspect(db.engine).get_columns("institutions")]
        assert "managers_see_engagement" not in columns
        assert list(db.session.scalars(text("SELECT name FROM institutions"))) == ["Ville"]
        db.session.rollback()


def _endpoints():
    endpoints = list(db.session.scalars(text("SELECT link_endpoint FROM notifications ORDER BY id")))
    db.session.rollback()  # end the read: the next migration runs on a connection of its own
    return endpoints


# --- Every earlier revision upgrades to the head with its data --------------------------
#
# One dataset serves every revision: each row is written with the columns that exist at
# the revision (read from the database, not from the models, which describe the head), in
# tables that exist there; a NOT NULL column the dataset does not fill fails loudly, naming
# it. Rows go in through tables reflected from the database at that revision (plain SQL
# with the dialect's types: booleans, JSON, dates), and come back after the upgrade with
# the same values.

AT = datetime(2026, 3, 2, 9, 30)
LATER = datetime(2026, 3, 9, 14, 0)
DAY = date(2026, 3, 2)

# In foreign-key order. Values are those of the first revision with each column.
DATASET: list[tuple[str, list[dict]]] = [
    ("institutions", [dict(id=1, name="Ville de Test", slug="ville", kind="commune", accent_color="#1f5f8b",
                           created_at=AT)]),
    ("org_units", [dict(id=1, institution_id=1, parent_id=None, code="DGS", name="Direction générale",
                        kind="direction", created_at=AT),
                   dict(id=2, institution_id=1, parent_id=1, code="SI", name="Service informatique",
                        kind="service", closed_on=DAY, created_at=AT)]),
    ("users", [dict(id=1, institution_id=1, first_name="Ana", last_name="Agent", email="ana@ville.fr",
                    password_hash="hash-ana", category="B", quotite=80, org_unit_id=2, manager_id=None,
                    is_active=True, is_instance_admin=False, created_at=AT),
               dict(id=2, institution_id=1, first_name="Marc", last_name="Manager", email="marc@ville.fr",
                    category="A", quotite=100, org_unit_id=1, manager_id=None, is_active=True,
                    is_instance_admin=True, created_at=AT),
               dict(id=3, institution_id=1, first_name="Zoé", last_name="Partie", email="zoe@ville.fr",
                    category="C", quotite=50, org_unit_id=2, manager_id=2, is_active=False,
                    is_instance_admin=False, deactivated_at=LATER, created_at=AT)]),
    ("user_roles", [dict(id=1, user_id=2, institution_id=1, role="coordinator")]),
    ("collective_memberships", [dict(id=1, institution_id=1, user_id=1, starts_on=DAY, created_at=AT)]),
    ("audit_events", [dict(id=1, institution_id=1, actor_id=2, action="user.created", target_type="user",
                           target_id=1, data={"email": "ana@ville.fr", "roles": ["hr"]}, is_public=False,
                           created_at=AT)]),
    ("themes", [dict(id=1, institution_id=1, name="Numérique", is_active=True)]),
    ("proposals", [dict(id=1, institution_id=1, kind="initiative", state="submitted", author_id=1,
                        org_unit_id=2, theme_id=1, host_org_unit_id=None, contact_id=None, version_number=1,
                        support_count=1, comment_count=1, search_text="guichet numérique unique",
                        created_at=AT, updated_at=AT, submitted_at=AT, state_changed_at=AT,
                        title="Guichet numérique", problem="Files d'attente", change="Un guichet en ligne",
                        beneficiaries="Usagers", gain="Du temps", needs="Un développeur", mission="",
                        learning="", contribution="")]),
    ("proposal_versions", [dict(id=1, proposal_id=1, number=1, theme_id=1, submitted_by_id=1, created_at=AT,
                                title="Guichet numérique", problem="Files d'attente",
                                change="Un guichet en ligne", beneficiaries="Usagers", gain="Du temps",
                                needs="Un développeur", mission="", learning="", contribution="")]),
    ("supports", [dict(id=1, proposal_id=1, user_id=2, created_at=AT)]),
    ("comments", [dict(id=1, proposal_id=1, author_id=2, body="Bonne idée", created_at=AT)]),
    ("proposal_substitutes", [dict(id=1, proposal_id=1, user_id=3, designated_by_id=2, designated_at=AT)]),
    ("review_settings", [dict(id=1, institution_id=1, decision_rule="majority", quorum_percent=50,
                              votes_public=True, target_days=30, ineligibility_reasons=["Hors périmètre"])]),
    ("criteria", [dict(id=1, institution_id=1, name="Impact", description="Pour les usagers", weight=3,
                       is_active=True, position=1)]),
    ("review_sessions", [dict(id=1, institution_id=1, starts_at=LATER, place="Salle du conseil",
                              video_link="", created_by_id=2, created_at=AT)]),
    ("agenda_items", [dict(id=1, session_id=1, proposal_id=1, position=1, status="pending",
                           tally={"for": 0}, vote_opened_at=None)]),
    ("projects", [dict(id=1, institution_id=1, kind="initiative", state="active", title="Guichet numérique",
                       proposal_id=1, sponsor_id=2, lead_id=1, host_org_unit_id=2, objectives="Ouvrir",
                       indicators="Demandes en ligne", starts_on=DAY, progress=40, hold_reason="",
                       created_at=AT, state_changed_at=LATER)]),
    ("project_members", [dict(id=1, project_id=1, user_id=1, role="Cheffe de projet", hours_budget=120)]),
    ("milestones", [dict(id=1, project_id=1, title="Maquette", due_on=DAY)]),
    ("release_settings", [dict(id=1, institution_id=1, monthly_cap_percent=20, daily_minutes_full_time=420)]),
    ("immersion_settings", [dict(id=1, institution_id=1, limits_mode="warn", internal_min_days=1,
                                 internal_max_days=15, daily_hours=7)]),
    ("time_entries", [dict(id=1, institution_id=1, user_id=1, project_id=1, day=DAY, minutes=90,
                           note="Atelier", status="approved", refusal_reason="", submitted_at=AT,
                           decided_at=LATER, decided_by_id=2, created_at=AT)]),
    ("notification_preferences", [dict(id=1, user_id=1, category="projects", delivery="digest")]),
    ("notifications", [dict(id=1, user_id=1, category="projects", subject="Nouveau jalon", body="Maquette",
                            link="/projets/1", created_at=AT, read_at=None, digest_pending=True,
                            link_endpoint="projects.show", link_values={"project_id": 1})]),
    ("outbox_messages", [dict(id=1, recipient="ana@ville.fr", subject="Résumé", text="Texte", html="<p>Texte</p>",
                              status="sent", attempts=1, next_attempt_at=AT, last_error="", created_at=AT,
                              sent_at=LATER)]),
]

SCRIPTS = ScriptDirectory(os.path.join(os.path.dirname(__file__), "..", "..", "migrations"))
HEAD = SCRIPTS.get_current_head()
EARLIER = [script.revision for script in reversed(list(SCRIPTS.walk_revisions())) if script.revision != HEAD]


@pytest.fixture(scope="module")
def upgrade_database_url(tmp_path_factory):
    """A database of this module's own: a SQLite file, or on PostgreSQL `<name>_migrations...`
    (never the workers' databases), dropped at the end."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('upgrades') / 'upgrades.db'}"
        return
    url = worker_database(TEST_DATABASE_URL, f"migrations_{XDIST_WORKER or 'main'}")
    yield url
    engine = create_engine(normalise_database_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    finally:
        engine.dispose()


def _empty(app) -> None:
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        engine.dispose()
        path = make_url(str(engine.url)).database
        if path and os.path.exists(path):
            os.remove(path)


def _insert_dataset(connection) -> dict[str, list[dict]]:
    """The dataset rows the database at its revision can hold, inserted: {table: rows as written}."""
    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    written = {}
    for name, rows in DATASET:
        if name not in existing:
            continue
        columns = {column["name"]: column for column in inspector.get_columns(name)}
        table = Table(name, MetaData(), autoload_with=connection)
        kept = []
        for row in rows:
            values = {key: value for key, value in row.items() if key in columns}
            missing = [c for c, column in columns.items() if c not in values and not column["nullable"]
                       and column.get("default") is None and c != "id"]
            assert not missing, f"{name} : colonnes obligatoires sans valeur dans le jeu de données : {missing}"
            kept.append(values)
        for values in kept:  # one by one: the rows do not all fill the same columns
            connection.execute(table.insert(), values)
        written[name] = kept
    return written


@pytest.mark.parametrize("revision", EARLIER)
def test_upgrade_from_each_revision_keeps_the_data(upgrade_database_url, revision):
    app = create_app(app_config(upgrade_database_url))
    with app.app_context():
        _empty(app)
        upgrade(revision=revision)
        with db.engine.begin() as connection:
            written = _insert_dataset(connection)
        assert {"institutions", "org_units", "users"} <= written.keys()

        upgrade()

        with db.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == HEAD
            for name, rows in written.items():
                table = Table(name, MetaData(), autoload_with=connection)
                stored = [dict(row._mapping) for row in connection.execute(select(table).order_by(table.c.id))]
                assert len(stored) == len(rows), name
                for before, after in zip(rows, stored, strict=True):
                    assert {key: after[key] for key in before} == before, name
            if "proposals" in written and connection.dialect.name == "sqlite":
                # The search index (0008, keyed by date since 0017) covers proposals written before it.
                assert list(connection.scalars(text(
                    f"SELECT rowid & {KEY_ID_MASK} FROM proposal_search WHERE proposal_search MATCH 'numérique'"
                ))) == [1]
            # The upgraded schema is the one the models describe (as in test_config).
            context = MigrationContext.configure(connection, opts={
                "compare_type": True,
                "include_name": lambda name, type_, _parents: not is_search_index_object(name, type_)})
            assert compare_metadata(context, db.metadata) == []
        db.engine.dispose()


def test_approved_months_are_counted_from_the_entries_and_go_away_on_downgrade(upgrade_database_url):
    """0018 fills the dashboard's agent-month totals from the entries already there: approved
    ones that no approved correction replaces; downgrading drops them."""
    app = create_app(app_config(upgrade_database_url))
    with app.app_context():
        _empty(app)
        upgrade(revision="0017")
        with db.engine.begin() as connection:
            _insert_dataset(connection)  # entry 1: approved, 90 minutes on 2 March
            entries = Table("time_entries", MetaData(), autoload_with=connection)
            common = dict(institution_id=1, user_id=1, project_id=1, note="", refusal_reason="", created_at=AT,
                          corrects_id=None)
            connection.execute(entries.insert(), [
                dict(common, id=2, day=DAY, minutes=60, status="approved", corrects_id=1),  # replaces 1
                dict(common, id=3, day=date(2026, 3, 3), minutes=30, status="refused"),
                dict(common, id=4, day=date(2026, 4, 1), minutes=45, status="approved"),
                dict(common, id=5, day=date(2026, 4, 1), minutes=15, status="submitted", corrects_id=4),
            ])

        upgrade(revision="0018")
        with db.engine.connect() as connection:
            assert sorted(connection.execute(text(
                "SELECT institution_id, user_id, month, minutes FROM approved_months"))) == [
                (1, 1, "2026-03", 60), (1, 1, "2026-04", 45)]

        downgrade(revision="0017")
        with db.engine.connect() as connection:
            assert "approved_months" not in inspect(connection).get_table_names()
        db.engine.dispose()


def test_units_tokens_are_drawn_for_existing_institutions_and_by_each_change_then_go_away(upgrade_database_url):
    """0022: each institution gets a token, and the database draws a new one at each change
    of its units (engagement/units.py reads its tree again then); downgrading drops both."""
    app = create_app(app_config(upgrade_database_url))
    with app.app_context():
        _empty(app)
        upgrade(revision="0021")
        with db.engine.begin() as connection:
            _insert_dataset(connection)

        upgrade(revision="0022")
        with db.engine.begin() as connection:
            first = connection.scalar(text("SELECT org_units_token FROM institutions WHERE id = 1"))
            connection.execute(text("UPDATE org_units SET name = 'Voirie' WHERE id = 1"))
            renamed = connection.scalar(text("SELECT org_units_token FROM institutions WHERE id = 1"))
            connection.execute(text("UPDATE institutions SET name = 'Ville renommée' WHERE id = 1"))
            untouched = connection.scalar(text("SELECT org_units_token FROM institutions WHERE id = 1"))
        assert len(first) >= 16 and renamed not in ("", first) and untouched == renamed

        downgrade(revision="0021")
        with db.engine.begin() as connection:
            assert "org_units_token" not in [c["name"] for c in inspect(connection).get_columns("institutions")]
            connection.execute(text("UPDATE org_units SET name = 'Propreté' WHERE id = 1"))  # no trigger left
        db.engine.dispose()


def test_project_titles_become_searchable_without_accents_then_the_column_goes_away(upgrade_database_url):
    """0023 fills projects.search_text from the titles already there (lowercase, accent-free,
    as the portfolio's words are); downgrading drops it."""
    app = create_app(app_config(upgrade_database_url))
    with app.app_context():
        _empty(app)
        upgrade(revision="0022")
        with db.engine.begin() as connection:
            _insert_dataset(connection)  # project 1: « Guichet numérique »

        upgrade(revision="0023")
        with db.engine.connect() as connection:
            assert connection.scalar(text("SELECT search_text FROM projects WHERE id = 1")) == "guichet numerique"

        downgrade(revision="0022")
        with db.engine.connect() as connection:
            assert "search_text" not in [c["name"] for c in inspect(connection).get_columns("projects")]
        db.engine.dispose()


def test_proposals_keep_their_first_answer_from_the_decisions_then_the_column_goes_away(upgrade_database_url):
    """0024 fills proposals.first_answered_at from the decisions already there: the first
    session outcome or not-eligible decision, never an eligible one nor a correction;
    a proposal without an answer keeps none. Downgrading drops the column."""
    app = create_app(app_config(upgrade_database_url))
    with app.app_context():
        _empty(app)
        upgrade(revision="0023")
        with db.engine.begin() as connection:
            _insert_dataset(connection)  # proposal 1, submitted at AT
            proposals = Table("proposals", MetaData(), autoload_with=connection)
            first = connection.execute(select(proposals).where(proposals.c.id == 1)).mappings().one()
            connection.execute(proposals.insert(), {**first, "id": 2, "state": "in_review"})
            decision = dict(institution_id=1, rationale="Motivée.", tally={}, decided_by_id=2, reason="")
            connection.execute(Table("decisions", MetaData(), autoload_with=connection).insert(), [
                dict(decision, id=1, proposal_id=1, kind="eligibility", outcome="eligible", published_at=AT),
                dict(decision, id=2, proposal_id=1, kind="session", outcome="changes_requested",
                     published_at=datetime(2026, 3, 9, 15, 0)),
                dict(decision, id=3, proposal_id=1, kind="correction", outcome="reopened",
                     published_at=datetime(2026, 3, 10, 9, 0)),
                dict(decision, id=4, proposal_id=1, kind="session", outcome="accepted",
                     published_at=datetime(2026, 4, 6, 15, 0)),
                dict(decision, id=5, proposal_id=2, kind="eligibility", outcome="eligible", published_at=AT),
            ])

        upgrade(revision="0024")
        with db.engine.connect() as connection:
            proposals = Table("proposals", MetaData(), autoload_with=connection)
            assert connection.execute(select(proposals.c.id, proposals.c.first_answered_at)
                                      .order_by(proposals.c.id)).all() == [(1, datetime(2026, 3, 9, 15, 0)),
                                                                           (2, None)]

        downgrade(revision="0023")
        with db.engine.connect() as connection:
            assert "first_answered_at" not in [c["name"] for c in inspect(connection).get_columns("proposals")]
        db.engine.dispose()


def _analysed_sqlite_database_at(app, revision: str) -> None:
    """The dataset at `revision`, with SQLite's planner statistics (ANALYZE), as a database
    in use has them; the test is skipped on another database."""
    _empty(app)
    upgrade(revision=revision)
    if db.engine.dialect.name != "sqlite":
        pytest.skip("plans et statistiques du planificateur de SQLite")
    with db.engine.begin() as connection:
        _insert_dataset(connection)
        connection.execute(text("ANALYZE"))


def test_the_new_indexes_get_statistics_where_the_database_has_some(upgrade_database_url):
    """0024's new index without statistics, next to older ones with some, looked cheapest to
    SQLite: the portfolio's page of projects was read through it and sorted. The migration
    takes the statistics of the two tables again, and the portfolio walks its own index."""
    app = create_app(app_config(upgrade_database_url))
    with app.app_context():
        _analysed_sqlite_database_at(app, "0023")
        upgrade(revision="0024")
        with db.engine.connect() as connection:
            analysed = set(connection.scalars(text("SELECT idx FROM sqlite_stat1 WHERE tbl = 'projects'")))
            plan = " ".join(row[-1] for row in connection.execute(text(
                "EXPLAIN QUERY PLAN SELECT id FROM projects WHERE institution_id = 1 "
                "ORDER BY state_changed_at DESC, id DESC LIMIT 20")))
        assert {"ix_projects_dashboard", "ix_projects_portfolio"} <= analysed
        assert "ix_projects_portfolio" in plan and "TEMP B-TREE" not in plan
        db.engine.dispose()


def test_an_agents_running_projects_are_counted_from_two_indexes_after_0025(upgrade_database_url):
    """The HR figures' count of an agent's running initiative projects read each membership's
    row, then each project's wide row. After 0025 (statistics taken again where there are
    some), the same count reads the memberships' index by agent and the projects' index by
    key, and the downgrade gives the old index back."""
    app = create_app(app_config(upgrade_database_url))
    member_count = ("SELECT count(DISTINCT project_members.project_id) FROM project_members "
                    "JOIN projects ON projects.id = project_members.project_id "
                    "WHERE project_members.user_id IN (1, 2) AND projects.state != 'framing' "
                    "AND projects.kind = 'initiative' AND (projects.starts_on IS NULL OR projects.starts_on <= '2026-12-31') "
                    "AND (projects.ends_on IS NULL OR projects.ends_on >= '2026-01-01')")
    with app.app_context():
        _analysed_sqlite_database_at(app, "0024")
        upgrade(revision="0025")
        with db.engine.connect() as connection:
            plan = " ".join(row[-1] for row in connection.execute(text("EXPLAIN QUERY PLAN " + member_count)))
            analysed = set(connection.scalars(text("SELECT idx FROM sqlite_stat1 WHERE tbl = 'project_members'")))
        assert "COVERING INDEX ix_project_members_user_project" in plan
        assert "COVERING INDEX ix_projects_running" in plan
        assert "ix_project_members_user_project" in analysed

        downgrade(revision="0024")
        with db.engine.connect() as connection:
            indexes = {i["name"] for i in inspect(connection).get_indexes("project_members")}
        assert "ix_project_members_user_id" in indexes and "ix_project_members_user_project" not in indexes
        db.engine.dispose()
