"""Failures under load, on the real server: workers killed in the middle of requests, and
PostgreSQL restarted. Every change is then all there or not there at all, and the app
keeps answering without being restarted."""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from incubator.audit.models import AuditEvent
from incubator.extensions import db
from incubator.notifications.models import Notification, OutboxMessage
from incubator.proposals.models import Proposal, ProposalVersion
from tests.factories import INITIATIVE_TEXT, make_user

from .live import Answer, Browser, LiveServer

PG_CTL = os.environ.get("TEST_PG_CTL")
PG_DATA = os.environ.get("TEST_PG_DATA")
PG_LOG = os.environ.get("TEST_PG_LOG")


@dataclass
class Outcome:
    title: str | None  # the proposal submitted, None for a read
    started: float
    answer: Answer | Exception

    @property
    def status(self) -> int | None:
        return self.answer.status if isinstance(self.answer, Answer) else None


class Load:
    """People submitting proposals (two requests in three) and reading the board, as fast
    as the server answers, until stopped. Every outcome is kept."""

    def __init__(self, browsers: list[Browser], *, pause: float = 0.0):
        self.browsers = browsers
        self.pause = pause
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n, b), daemon=True)
                         for n, b in enumerate(browsers)]

    def _run(self, number: int, browser: Browser) -> None:
        step = 0
        while not self._stop.is_set():
            step += 1
            title = f"Idée {number}-{step} : un carnet partagé des bâtiments" if step % 3 else None
            started = time.monotonic()
            try:
                if title:
                    answer = browser.post("/propositions/nouvelle",
                                          {"title": title, "intent": "submit", **INITIATIVE_TEXT}, timeout=30)
                else:
                    answer = browser.get("/propositions", timeout=30)
            except Exception as exc:  # noqa: BLE001 - a cut connection is an outcome here
                answer = exc
            self.outcomes.append(Outcome(title, started, answer))
            if self.pause:
                time.sleep(self.pause)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def wait_for(self, successes: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while sum(1 for o in list(self.outcomes) if o.status == 303) < successes:
            assert time.monotonic() < deadline, "Le serveur ne traite pas la charge."
            time.sleep(0.05)


def fresh() -> None:
    db.session.rollback()
    db.session.expire_all()


def assert_all_or_nothing(outcomes: list[Outcome]) -> None:
    """Each submission is there whole (proposal, version, audit events, notification,
    email) or not at all; every one the server confirmed is there."""
    fresh()
    proposals = {p.title: p for p in db.session.scalars(select(Proposal))}
    ids = {p.id for p in proposals.values()}
    for proposal in proposals.values():
        assert (proposal.state, proposal.version_number) == ("submitted", 1), proposal.title
    assert sorted(db.session.scalars(select(ProposalVersion.proposal_id))) == sorted(ids)
    for action in ("proposal.created", "proposal.submitted"):
        targets = db.session.scalars(select(AuditEvent.target_id).where(AuditEvent.action == action)).all()
        assert sorted(targets) == sorted(ids), action
    links = db.session.scalars(select(Notification.link)).all()
    assert sorted(links) == sorted(f"/propositions/{i}" for i in ids)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == len(ids)
    sent = {o.title: o for o in outcomes if o.title}
    assert set(proposals) <= set(sent)
    confirmed = {title for title, o in sent.items() if o.status == 303}
    assert confirmed <= set(proposals), confirmed - set(proposals)


def people(live: LiveServer, count: int) -> list[Browser]:
    authors = [make_user() for _ in range(count)]
    db.session.commit()
    return live.logged_in(*authors)


def assert_still_serving(live: LiveServer, browser: Browser) -> None:
    assert browser.get("/propositions").status == 200
    answer = browser.post("/propositions/nouvelle",
                          {"title": "Après l'incident : une dernière idée", "intent": "submit", **INITIATIVE_TEXT})
    assert answer.status == 303, answer.text[:500]


def test_workers_killed_mid_request_leave_no_half_written_change(live):
    live.check_log = False  # the master logs the killed workers
    browsers = people(live, 8)
    killed: list[int] = []
    with Load(browsers) as load:
        for _ in range(2):
            load.wait_for(successes=len([o for o in load.outcomes if o.status == 303]) + 10)
            pids = live.kill_workers()
            killed += pids
            live.wait_until_ready(excluding=killed)
        load.wait_for(successes=len([o for o in load.outcomes if o.status == 303]) + 10)
    cut = [o for o in load.outcomes if o.status is None]
    assert cut, "Aucune requête n'était en cours quand les workers ont été tués."
    server_errors = [(o.status, o.answer.text[:300]) for o in load.outcomes if (o.status or 0) >= 500]
    assert not server_errors, server_errors
    assert_all_or_nothing(load.outcomes)
    assert_still_serving(live, browsers[0])
    log = live.log()
    assert all(f"Worker (pid:{pid}) was sent SIGKILL" in log for pid in killed)


@pytest.mark.serial  # the restart cuts every connection to the server, other tests' too
@pytest.mark.skipif(not (PG_CTL and PG_DATA and PG_LOG),
                    reason="PostgreSQL seulement (TEST_PG_CTL, TEST_PG_DATA et TEST_PG_LOG, fournis "
                           "par scripts/with-postgres.sh) : SQLite n'a pas de serveur à redémarrer.")
def test_postgresql_restarted_under_load_the_app_recovers(live):
    live.check_log = False  # requests during the restart are logged as errors
    browsers = people(live, 6)
    workers = live.worker_pids()
    db.session.rollback()  # the test holds no connection across the restart
    with Load(browsers, pause=0.02) as load:
        load.wait_for(successes=10)
        restart = subprocess.run(
            [*shlex.split(PG_CTL), "-D", PG_DATA, "-l", PG_LOG, "-m", "fast", "-w", "-t", "60", "restart"],
            capture_output=True, text=True, timeout=90)
        assert restart.returncode == 0, restart.stdout + restart.stderr
        back = time.monotonic()
        load.wait_for(successes=len([o for o in load.outcomes if o.status == 303]) + 20)
    # The same workers, reconnected: nothing was restarted but the database.
    assert live.worker_pids() == workers
    during = [o for o in load.outcomes if o.started < back]
    after = [o for o in load.outcomes if o.started >= back]
    assert all(o.status in (200, 303) for o in after), \
        [(o.status, o.answer if o.status is None else o.answer.text[:300]) for o in after if o.status not in (200, 303)]
    # While the database was away: "come back in a moment" (503, French page), never a
    # bare error, a cut connection or a hang.
    failures = [o for o in during if o.status not in (200, 303)]
    assert failures, "La charge n'a pas rencontré le redémarrage de PostgreSQL."
    assert all(o.status == 503 and "momentanément indisponible" in o.answer.text
               and o.answer.headers["Retry-After"] for o in failures), \
        [(o.status, o.answer if o.status is None else o.answer.text[:300]) for o in failures]
    assert_all_or_nothing(load.outcomes)
    assert_still_serving(live, browsers[0])


@pytest.mark.skipif(not PG_CTL, reason="PostgreSQL seulement : SQLite n'a pas de connexion au serveur à perdre.")
def test_a_pooled_postgresql_connection_is_checked_by_the_begin_of_its_transaction(database_url):
    """The check a connection gets when taken from the pool is its transaction's BEGIN,
    not a round trip of its own; a connection the server dropped is replaced before use."""
    import psycopg
    from psycopg.pq import TransactionStatus

    from incubator import create_app
    from tests.conftest import app_config

    own = create_app(app_config(database_url))  # a pool of its own: one connection, reused
    with own.app_context():
        engine = db.engine
        try:
            with engine.connect() as connection:  # opened now: not checked
                first = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                connection.rollback()
            with engine.connect() as connection:  # from the pool: checked
                driver = connection.connection.dbapi_connection
                # Already in a transaction, begun by the check before any statement.
                assert driver.info.transaction_status == TransactionStatus.INTRANS
                assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() == first
                assert connection.exec_driver_sql("SELECT xact_start < statement_timestamp() FROM pg_stat_activity "
                                                  "WHERE pid = pg_backend_pid()").scalar() is True
                connection.rollback()

            # The server drops the pooled connection (as a restart would): the next checkout
            # finds it dead and opens another, and its user never sees the dead one.
            address = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            with psycopg.connect(address, autocommit=True) as other:
                assert other.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone() == (True,)
            with engine.connect() as connection:
                assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() not in (first, None)
                connection.rollback()
        finally:
            engine.dispose()


def test_a_lost_database_answers_503_and_the_next_request_reconnects(client, login, monkeypatch):
    """What people see while the database is away, without the live server; an error
    in a query is not an outage, and stays a 500."""
    login(client, make_user())

    def failing(error):
        def fail(*_args, **_kwargs):
            raise error
        return fail

    lost = OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"),
                            connection_invalidated=True)
    monkeypatch.setattr("incubator.accounts.sessions.resolve_session", failing(lost))
    response = client.get("/propositions")
    page = response.get_data(as_text=True)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "5")
    assert "Service momentanément indisponible" in page and 'lang="fr"' in page
    assert "Se déconnecter" not in page  # drawn without the person's menu (it reads the database)

    monkeypatch.undo()
    assert client.get("/propositions").status_code == 200

    refused = OperationalError("SELECT 1", {}, Exception("LIKE or GLOB pattern too complex"))
    monkeypatch.setattr("incubator.proposals.queries.board_query", failing(refused))
    assert client.get("/propositions").status_code == 500
