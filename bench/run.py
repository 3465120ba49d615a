"""`make bench`: generate the dataset, serve it with gunicorn as in production, drive it with
closed-loop clients, and report latency, throughput and SQL queries per page.

Environment:
  BENCH_SCALE    small | medium | full (default full); the small scale also runs, for the
                 scaling ratios, unless BENCH_SCALING=0
  BENCH_DB       sqlite (default) | postgres (a database on BENCH_DATABASE_URL's server, or
                 on TEST_DATABASE_URL's when run through scripts/with-postgres.sh)
  BENCH_SECONDS  measuring time per page and concurrency level (default 6)
  BENCH_ROUNDS   windows that time is cut into, alternated between the levels and scales
                 (default 3, see run_scales)
  BENCH_CLIENTS  concurrency levels (default "4 16")
  BENCH_KEEP=1   keep the generated SQLite database in bench/work/; BENCH_REUSE=1 measures
                 it again instead of generating (the writes have changed it: figures of a
                 reused database are for iterating, a reference measure generates afresh)
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from .client import Client
from .generate import BENCH_PASSWORD, Dataset, generate

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results"
VENV_BIN = Path(sys.executable).parent

# Targets of the issue (21), checked in the report.
TARGET_READ_P95_MS = {"sqlite": 50, "postgres": 100}   # every read page, reference clients
TARGET_HEALTHZ_FACTOR = 5        # read page p50 at most 5 x /healthz p50 of the same run
TARGET_SCALING = 1.2             # p50 full / p50 small
TARGET_QUERIES = 12
TARGET_EXPORT_SECONDS = {"sqlite": 2, "postgres": 3}
TARGET_EXPORT_GROWTH_MB = 50
TARGET_DASHBOARD_COMPUTE_MS = 500
TARGET_WRITE_P95_MS = 50         # SQLite (the single write lock)
TARGET_P95_GROWTH = 4            # p95 at the most clients / p95 at the fewest
WRITES = ("support_toggle", "vote", "time_entry_save", "comment", "approval")


def log(message: str) -> None:
    print(message, flush=True)


# ---------------------------------------------------------------------------- database


def database_url(scale: str, kind: str) -> str:
    if kind == "sqlite":
        WORK.mkdir(parents=True, exist_ok=True)
        path = WORK / f"bench-{scale}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not server:
        raise SystemExit("BENCH_DB=postgres : définissez BENCH_DATABASE_URL (ou lancez via make bench, "
                         "qui démarre un PostgreSQL jetable).")
    import psycopg

    name = f"incubateur_bench_{scale}"
    base = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + f"/{name}"


def prepare(scale: str, kind: str) -> tuple[str, Dataset]:
    """A fresh database with the schema from the migrations and the generated dataset."""
    from flask_migrate import upgrade

    from incubator import create_app
    from incubator.accounts.passwords import hash_password
    from incubator.extensions import db
    from incubator.proposals.search import compact_index

    url = database_url(scale, kind)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        log(f"== Génération du jeu de données « {scale} » ({kind})…")
        dataset = generate(db.engine, db.metadata, scale, hash_password(BENCH_PASSWORD))
        # The data of five years has been through five years of nights: the nightly
        # maintenance (incubateur-search.timer) has run.
        started = time.perf_counter()
        compact_index()
        dataset.maintenance_seconds = round(time.perf_counter() - started, 1)
        db.engine.dispose()
    rows = sum(dataset.counts.values())
    log(f"   {rows:,} lignes en {dataset.seconds} s ({int(rows / max(dataset.seconds, 0.1)):,} lignes/s)"
        .replace(",", " "))
    log(f"   maintenance de la nuit (index de recherche regroupé) : {dataset.maintenance_seconds} s")
    return url, dataset


# ---------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn as `make run` and production start it (gunicorn.conf.py)."""

    def __init__(self, url: str):
        self.url = url
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        instance = WORK / "instance"
        instance.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DATABASE_URL": self.url, "SECRET_KEY": "bench-secret-key",
               "INCUBATEUR_INSTANCE_PATH": str(instance), "INCUBATEUR_SESSION_COOKIE_SECURE": "false",
               "INCUBATEUR_QUERY_COUNT_HEADER": "true", "INCUBATEUR_SERVER_TIMING_HEADER": "true"}
        self.log = open(WORK / "gunicorn.log", "a")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                    if r.status == 200 and len(self.workers()) >= 1:
                        break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn n'a pas démarré : voir bench/work/gunicorn.log")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def memory(self, field: str) -> dict[int, float]:
        """VmRSS or VmHWM (peak) of each worker, in MB."""
        found = {}
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    found[pid] = int(line.split()[1]) / 1024
        return found

    def cpu_seconds(self) -> float:
        """Processor time (user and system) the workers have used so far, in seconds."""
        total = 0
        for pid in self.workers():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # the worker has just exited
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (proc(5), fields 14 and 15)
        return total / os.sysconf("SC_CLK_TCK")

    def reset_peaks(self) -> None:
        for pid in self.workers():
            Path(f"/proc/{pid}/clear_refs").write_text("5")


def machine_busy_seconds(stat: str | None = None) -> float:
    """Processor time the whole machine has used so far, in seconds: every process (the
    app's workers, the database server, the bench's clients) and the kernel, from the first
    line of /proc/stat (proc(5): user, nice, system, idle, iowait, irq, softirq, steal...).
    Idle, waiting for the disk and stolen by the hypervisor are not the machine's work."""
    text = stat if stat is not None else Path("/proc/stat").read_text()
    fields = [int(x) for x in text.split("\n", 1)[0].split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields + [0] * (7 - len(fields))
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------- scenarios


def pages(data: Dataset, monday: date) -> dict[str, dict]:
    """name -> who, and the request each client sends (client number, iteration)."""
    tuesday = (monday + timedelta(days=1)).strftime("%Y%m%d")
    opens = data.open_proposal_ids or [data.proposal_id]

    def support(n: int, i: int):
        return "POST", f"/propositions/{opens[(n * 11 + i) % len(opens)]}/soutien", {}

    def vote(n: int, i: int):
        return "POST", f"/arbitrage/points/{data.vote_item_id}/voter", {"choice": ("for", "against", "abstain")[i % 3]}

    def time_entry(n: int, i: int):
        return "POST", f"/mon-temps?semaine={monday.isoformat()}", {
            f"h-{data.project_id}-{tuesday}": ("1", "1,5", "2")[i % 3],
            f"note-{data.project_id}": "Atelier"}

    def comment(n: int, i: int):
        return "POST", f"/propositions/{opens[(n * 7 + i) % len(opens)]}/commentaires", {
            "body": f"Retour du terrain n° {i} : même besoin dans notre service."}

    # A week (two lines) per request, never the same twice, whatever the client.
    weeks = itertools.count()
    pool = data.approval_entry_ids

    def approval(n: int, i: int):
        return "POST", "/validations", {"action": "approve", "entry": pool[next(weeks) % len(pool)]}

    def get(path):
        return lambda n, i: ("GET", path, None)

    return {
        "healthz": {"who": None, "request": get("/healthz")},
        # A page a signed-in person reads, with nothing from the database but their session:
        # what every other page costs before its own content (the layout, the session).
        "signed_in": {"who": "agent", "request": get("/accessibilite")},
        "board": {"who": "agent", "request": get("/propositions")},
        "board_filtered": {"who": "agent", "request": get("/propositions?etape=accepted&theme=1&tri=soutiens")},
        "board_search": {"who": "agent", "request": get("/propositions?q=carnet+batiments")},
        "proposal": {"who": "agent", "request": get(f"/propositions/{data.proposal_id}")},
        "journal": {"who": "agent", "request": get("/arbitrage/journal")},
        "how_we_decide": {"who": "agent", "request": get("/arbitrage")},
        "portfolio": {"who": "agent", "request": get("/realisations")},
        "project": {"who": "agent", "request": get(f"/projets/{data.project_id}")},
        "my_time_week": {"who": "agent", "request": get(f"/mon-temps?semaine={monday.isoformat()}")},
        "approvals": {"who": "manager", "request": get("/validations")},
        "hr_report": {"who": "hr", "request": get("/rh/engagement")},
        "dashboard": {"who": "coordinator", "request": get("/tableau-de-bord")},
        "support_toggle": {"who": "agent", "request": support, "write": True},
        "vote": {"who": "member", "request": vote, "write": True},
        "time_entry_save": {"who": "agent", "request": time_entry, "write": True},
        "comment": {"who": "agent", "request": comment, "write": True},
        "approval": {"who": "validator", "request": approval, "write": True},
    }


def account(data: Dataset, who: str, n: int) -> str:
    if who == "agent":
        return data.agents[n % len(data.agents)]
    if who == "member":
        return data.members[n % len(data.members)]
    return data.personas[who]


class Sessions:
    """Logged-in clients, reused across pages (a login costs a password hash)."""

    def __init__(self, port: int, data: Dataset):
        self.port, self.data = port, data
        self.clients: dict[tuple[str | None, int], Client] = {}

    def get(self, who: str | None, n: int) -> Client:
        key = (who, n)
        if key not in self.clients:
            client = Client("127.0.0.1", self.port)
            if who:
                client.login(account(self.data, who, n), BENCH_PASSWORD)
            self.clients[key] = client
        return self.clients[key]


@dataclass
class Window:
    """One measuring window of a page at a number of clients, raw: `summarise` pools the
    windows of a page and level (rounds alternated with the other levels and scales)."""

    clients: int
    seconds: float  # the window's length: requests answered within it count for throughput
    latencies: list[float] = field(default_factory=list)
    in_window: int = 0
    elapsed: float = 0.0  # to the last answer: the processor times are read over it
    app_cpu: float | None = None
    machine_cpu: float = 0.0
    client_cpu: float = 0.0
    queries: list[int] = field(default_factory=list)
    timings: list[dict[str, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    first_seconds: float = 0.0


def window(sessions: Sessions, name: str, page: dict, clients: int, seconds: float,
           server: Server | None = None) -> Window:
    """Closed loop: each client sends its next request as soon as the previous one is answered,
    for `seconds`. With `server`, also the processor time its workers spent."""
    workers = [sessions.get(page["who"], n) for n in range(clients)]
    # One request from each client at once, not measured: a server process takes one
    # connection at a time, so each gets one of them, and none fills a cache (the
    # dashboard's, 0.3 to 0.5 s) while the window is measured. A server in service has filled
    # them long before. Their queries count, not their time.
    warm = [page["request"](n, 0) for n in range(clients)]
    with ThreadPoolExecutor(max_workers=clients) as pool:
        answers = list(pool.map(lambda n: workers[n].request(*warm[n], htmx=page.get("write", False)),
                                range(clients)))
    for (method, path, _body), answer in zip(warm, answers, strict=True):
        if answer.status >= 400:
            raise RuntimeError(f"{name} : {method} {path} -> {answer.status}\n{answer.text[:1500]}")
    found = Window(clients=clients, seconds=seconds, first_seconds=max(a.seconds for a in answers),
                   queries=[a.queries for a in answers if a.queries is not None])
    lock = threading.Lock()

    def loop(n: int, client: Client) -> None:
        i = 1
        while time.perf_counter() < stop_at:
            method, path, body = page["request"](n, i)
            try:
                response = client.request(method, path, body, htmx=page.get("write", False))
            except OSError as exc:
                with lock:
                    found.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            answered = time.perf_counter()
            with lock:
                found.latencies.append(response.seconds)
                found.in_window += answered <= stop_at
                if response.queries is not None:
                    found.queries.append(response.queries)
                found.timings.append(response.timing)
                if response.status >= 400:
                    found.errors.append(f"{response.status} {method} {path}")
            i += 1

    cpu_before = server.cpu_seconds() if server else None
    machine_before = machine_busy_seconds()
    client_before = os.times()
    started = time.perf_counter()
    stop_at = started + seconds
    threads = [threading.Thread(target=loop, args=(n, c)) for n, c in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found.elapsed = time.perf_counter() - started
    client_after = os.times()
    found.machine_cpu = machine_busy_seconds() - machine_before
    found.app_cpu = server.cpu_seconds() - cpu_before if server else None
    found.client_cpu = client_after.user + client_after.system - client_before.user - client_before.system
    return found


def summarise(windows: list[Window]) -> dict:
    """A page's figures at one level, from its windows pooled: percentiles of every latency,
    throughput as the requests answered within the windows over their length (the last
    requests, answered after a window's end while fewer clients remain, do not lower it),
    processor time per request over everything the windows ran.

    Windows measured with a server give the processor time its workers spent per request
    (`cpu_ms`) and how many cores they kept busy (`app_cores`), beside the bench client's own (`client_cores`):
    with every core busy, throughput is cores / CPU per request, and a request's latency is
    about clients x CPU per request / cores, whatever the page does with that time."""
    clients = windows[0].clients
    latencies = sorted(x for w in windows for x in w.latencies)
    ms = [x * 1000 for x in latencies]
    elapsed = sum(w.elapsed for w in windows)
    app_cpu = None if any(w.app_cpu is None for w in windows) else sum(w.app_cpu for w in windows)
    machine_cpu = sum(w.machine_cpu for w in windows)
    client_cpu = sum(w.client_cpu for w in windows)
    queries = [q for w in windows for q in w.queries]
    errors = [e for w in windows for e in w.errors]
    return {
        "requests": len(ms),
        "windows": len(windows),
        "p50_ms": round(statistics.median(ms), 1) if ms else None,
        "p95_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.95))], 1) if ms else None,
        "max_ms": round(ms[-1], 1) if ms else None,
        "rps": round(sum(w.in_window for w in windows) / sum(w.seconds for w in windows), 1),
        "cpu_ms": round(app_cpu * 1000 / len(ms), 2) if app_cpu is not None and ms else None,
        "app_cores": round(app_cpu / elapsed, 2) if app_cpu is not None else None,
        "client_cores": round(client_cpu / elapsed, 2),
        # The whole machine's processor time per request (workers, database server, clients,
        # kernel), the cores it kept busy, and the latency that cost alone sets: with every
        # core busy, N clients each wait N x CPU / cores per request on average (Little's
        # law), whatever the request waits for besides. Above it, the rest is waiting.
        "machine_cpu_ms": round(machine_cpu * 1000 / len(ms), 2) if ms else None,
        "machine_cores": round(machine_cpu / elapsed, 2),
        "cpu_floor_ms": round(clients * machine_cpu * 1000 / len(ms) / (os.cpu_count() or 1), 1) if ms else None,
        "queries": max(queries) if queries else None,
        "first_ms": round(windows[0].first_seconds * 1000, 1),
        "server": breakdown([t for w in windows for t in w.timings]),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:5],
    }


def measure(sessions: Sessions, name: str, page: dict, clients: int, seconds: float,
            server: Server | None = None) -> dict:
    """One window, summarised."""
    return summarise([window(sessions, name, page, clients, seconds, server)])


def breakdown(timings: list[dict[str, float]]) -> dict:
    """Medians of the Server-Timing parts (see incubator/instrumentation.py): the server's
    time for the request (`total`), its SQL, the wait for a write lock, the templates, the
    rest, and how long a write held the gate (SQLite); and the 95th percentile of the lock
    wait (the writes' tail)."""
    out = {}
    for part in ("total", "sql", "lock", "tpl", "app", "held"):
        values = sorted(t[part] for t in timings if part in t)
        if values:
            out[f"{part}_p50_ms"] = round(statistics.median(values), 1)
    locks = sorted(t["lock"] for t in timings if "lock" in t)
    if locks:
        out["lock_p95_ms"] = round(locks[min(len(locks) - 1, int(len(locks) * 0.95))], 1)
    return out


def export(server: Server, sessions: Sessions, measured: int = 3) -> dict:
    """The HR CSV of every agent over the last twelve months, streamed to the end. The first,
    right after the server started, reads a 1 GB database from the disk into the system's
    cache (5 to 6 s on a machine where the next takes 2), which a server in service has done
    long before: kept as `first_seconds`. Then `measured` more: `seconds` is their median
    (`runs`, each one): one export alone went from 1.3 to 2.3 s from one minute to the next
    on this machine, the same server and data. Memory: the most any of them, the first
    included, grew a worker."""
    client = sessions.get("hr", 99)
    today = date.today()
    path = f"/rh/engagement?format=csv&du={(today - timedelta(days=365)).isoformat()}&au={today.isoformat()}"
    runs, growth, peak, size = [], 0.0, 0.0, 0
    for _ in range(1 + measured):
        before = server.memory("VmRSS")
        server.reset_peaks()
        response = client.request("GET", path, read=False)
        after = server.memory("VmHWM")
        if response.status != 200:
            raise RuntimeError(f"Export RH : {response.status}")
        runs.append(response.seconds)
        growth = max([growth] + [after[pid] - before.get(pid, after[pid]) for pid in after])
        peak, size = max([peak, *after.values()]), int(response.body)
    first, measured_runs = runs[0], runs[1:] or runs
    return {"seconds": round(statistics.median(measured_runs), 2), "first_seconds": round(first, 2),
            "runs": [round(x, 2) for x in measured_runs], "bytes": size,
            "peak_rss_mb": round(peak, 1), "rss_growth_mb": round(growth, 1)}


def dashboard_compute(url: str, data: Dataset, runs: int = 3) -> float:
    """The dashboard's figures computed in this process, cache off (the page's cache would
    hide them): the fastest of `runs`, in ms, for the coordinator's view of the current year."""
    from incubator import create_app
    from incubator.dashboard.queries import build
    from incubator.engagement.queries import Period
    from incubator.extensions import db
    from incubator.timeutil import today_paris

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "DASHBOARD_CACHE_SECONDS": 0})
    timings = []
    with app.app_context():
        for _ in range(runs):
            started = time.perf_counter()
            build(data.main_institution_id, Period.year(today_paris().year), coordinator=True)
            timings.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
        db.engine.dispose()
    return round(min(timings), 1)
def reused(scale: str, kind: str) -> tuple[str, Dataset] | None:
    """With BENCH_REUSE=1, the SQLite database a previous run kept (BENCH_KEEP=1) and what
    its generation made, to measure again without generating."""
    path, described = WORK / f"bench-{scale}.db", WORK / f"dataset-{scale}-{kind}.json"
    if os.environ.get("BENCH_REUSE") != "1" or kind != "sqlite" or not path.exists() or not described.exists():
        return None
    log(f"== Jeu de données « {scale} » réutilisé : {path}")
    # Brought to the current schema first, as a deployment does (a migration since it was kept).
    from flask_migrate import upgrade
    from sqlalchemy import update

    from incubator import create_app
    from incubator.extensions import db
    from incubator.release_time.models import TimeEntry
    from incubator.release_time.totals import rebuild

    data = Dataset(**json.loads(described.read_text()))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        # The weeks a previous run approved wait again, as generated, so that every run has
        # the whole pool (a few runs used it up); the approved totals are counted again.
        pool = [entry_id for pair in data.approval_entry_ids for entry_id in pair]
        db.session.execute(update(TimeEntry).where(TimeEntry.id.in_(pool)).values(
            status="submitted", decided_at=None, decided_by_id=None, refusal_reason=""))
        rebuild()
        db.session.commit()
        db.engine.dispose()
    return f"sqlite:///{path}", data


def schedule(scales: list[str], levels: list[int], rounds: int) -> list[tuple[str, int]]:
    """The windows of one page, in the order they run: each round, the smaller scales at the
    first level, then the last scale at every level."""
    one_round = [(scale, clients) for scale in scales
                 for clients in (levels if scale == scales[-1] else levels[:1])]
    return one_round * rounds


FLOOR = "healthz"  # the framework's own floor: a page's p50 is compared with it (TARGET_HEALTHZ_FACTOR)


def windows_of(page: str, scales: list[str], levels: list[int], rounds: int) -> list[tuple[str, int, str]]:
    """The windows measuring `page`, in the order they run: (scale, clients, page measured).
    Each round, right after the page's window at the last scale and the first level, one of
    /healthz there: each page is compared with the floor measured beside it, not with the one
    measured at the start of the run, minutes earlier (the machine drifts meanwhile: /healthz
    at 2.9 ms at the start of a run whose writes, measured last, cost 1.5 times what they cost
    in the run before)."""
    steps = []
    for scale, clients in schedule(scales, levels, rounds):
        steps.append((scale, clients, page))
        if page != FLOOR and (scale, clients) == (scales[-1], levels[0]):
            steps.append((scale, clients, FLOOR))
    return steps


def run_scales(scales: list[str], kind: str, levels: list[int], seconds: float, rounds: int) -> dict[str, dict]:
    """Every scale served at once, a gunicorn each, and each page measured in `rounds` rounds:
    a round is a window of `seconds / rounds` at each scale and level in turn (the small
    scale at the first level, the last scale at every level), and each figure pools its
    windows. This machine's speed drifts by 10 to 25 % within minutes (a shared virtual
    machine): measured one after the other, the 16 clients of a page ran some minutes
    after its 4, the full scale some minutes after the small one, and their ratios were
    the drift's as much as the page's. Alternated, the drift falls on every side alike."""
    prepared = {scale: reused(scale, kind) or prepare(scale, kind) for scale in scales}
    monday = date.today() - timedelta(days=date.today().weekday())
    results: dict[str, dict] = {}
    with contextlib.ExitStack() as stack:
        servers, sessions, scenarios = {}, {}, {}
        for scale in scales:
            url, data = prepared[scale]
            server = servers[scale] = stack.enter_context(Server(url))
            sessions[scale] = Sessions(server.port, data)
            scenarios[scale] = pages(data, monday)
            result = results[scale] = {
                "scale": scale, "db": kind, "rounds": rounds, "levels": {},
                "generation": {"seconds": data.seconds, "rows": data.counts,
                               "maintenance_seconds": data.maintenance_seconds}}
            log(f"== Export RH complet ({scale})")
            result["export"] = export(server, sessions[scale])
            log(f"   {result['export']}")
            result["dashboard_compute_ms"] = dashboard_compute(url, data)
            log(f"   tableau de bord calculé en {result['dashboard_compute_ms']} ms (sans cache)")
        steps = schedule(scales, levels, rounds)
        log(f"== Mesure ({kind}) : pour chaque page, {rounds} tours de "
            + ", ".join(f"{clients} clients ({scale})" for scale, clients in schedule(scales, levels, 1))
            + f", {seconds / rounds:.1f} s chacun ; après la fenêtre à {levels[0]} clients ({scales[-1]}), "
            + f"/healthz pendant {seconds / rounds / 2:.1f} s, le plancher de la page")
        for name in scenarios[scales[-1]]:
            windows: dict[tuple[str, int], list[Window]] = {step: [] for step in steps}
            floors: list[Window] = []
            for scale, clients, measured in windows_of(name, scales, levels, rounds):
                if measured != name:  # the floor beside it, half as long: /healthz answers a thousand a second
                    floors.append(window(sessions[scale], FLOOR, scenarios[scale][FLOOR], clients,
                                         seconds / rounds / 2, servers[scale]))
                    continue
                windows[(scale, clients)].append(window(sessions[scale], name, scenarios[scale][name],
                                                        clients, seconds / rounds, servers[scale]))
            for (scale, clients), found in windows.items():
                stats = results[scale]["levels"].setdefault(str(clients), {})[name] = summarise(found)
                if floors and (scale, clients) == (scales[-1], levels[0]):
                    beside = summarise(floors)
                    stats["healthz_beside_p50_ms"] = beside["p50_ms"]
                    log(f"   {'(healthz à côté)':<16} {scale:>6} {clients:>3} clients  p50 {beside['p50_ms']:>7} ms")
                log(f"   {name:<16} {scale:>6} {clients:>3} clients  p50 {stats['p50_ms']:>7} ms  "
                    f"p95 {stats['p95_ms']:>7} ms  max {stats['max_ms']:>7} ms  {stats['rps']:>6} req/s  "
                    f"{stats['queries']} requêtes SQL"
                    + (f"  ERREURS {stats['errors']} {stats['error_samples']}" if stats["errors"] else ""))
    for scale in scales:
        url, data = prepared[scale]
        if kind == "sqlite" and os.environ.get("BENCH_KEEP") != "1":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{url.removeprefix('sqlite:///')}{suffix}").unlink(missing_ok=True)
        (WORK / f"dataset-{scale}-{kind}.json").write_text(json.dumps(data.__dict__, default=str, indent=1))
    return results


# ---------------------------------------------------------------------------- report


def report(main: dict, small: dict | None, levels: list[int]) -> dict:
    reference = str(levels[0])
    pages_ = main["levels"][reference]
    out = {
        "scale": main["scale"], "db": main["db"],
        "date": datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "clients": levels[0],
        # Windows per page and level, alternated (run_scales); absent: one window each, in a row.
        "rounds": main.get("rounds"),
        "pages": {name: {k: s.get(k) for k in ("p50_ms", "p95_ms", "max_ms", "rps", "cpu_ms", "app_cores",
                                               "client_cores", "machine_cpu_ms", "machine_cores",
                                               "cpu_floor_ms", "queries", "errors", "server",
                                               "healthz_beside_p50_ms")}
                  for name, s in pages_.items()},
        "by_clients": {level: main["levels"][level] for level in main["levels"]},
        "export": main["export"],
        # Filled by the dashboard's own measure when there is one; absent: not measured.
        "dashboard_compute_ms": main.get("dashboard_compute_ms"),
        "generation": main["generation"],
        "scaling": {},
        "scaling_vs_healthz": {},
        "small": None,
    }
    if small:
        small_pages = small["levels"][reference]
        out["small"] = {"pages": {n: {k: s[k] for k in ("p50_ms", "p95_ms", "queries")}
                                  for n, s in small_pages.items()},
                        "export": small["export"], "generation": small["generation"]}
        for name, stats in pages_.items():
            base = small_pages.get(name, {}).get("p50_ms")
            if base and stats["p50_ms"]:
                out["scaling"][name] = round(stats["p50_ms"] / base, 2)
        # The same ratios divided by /healthz's, which does the same work at both scales: the
        # machine's speed may change between the two phases (a shared virtual machine: 3.6
        # then 4.7 ms for /healthz in one run). Reported beside the target, which stays on
        # the raw ratios.
        drift = out["scaling"].get("healthz")
        if drift:
            out["scaling_vs_healthz"] = {name: round(ratio / drift, 2) for name, ratio in out["scaling"].items()}
    out["concurrency"] = concurrency(main, levels)
    out["targets"] = targets(out)
    return out


def concurrency(main: dict, levels: list[int]) -> dict:
    """Per page, throughput and p95 at the fewest and the most clients measured."""
    if len(levels) < 2:
        return {}
    few, many = str(min(levels)), str(max(levels))
    out = {}
    for name, low in main["levels"][few].items():
        high = main["levels"][many].get(name)
        if high and low["p95_ms"] and high["p95_ms"]:
            out[name] = {"clients": [int(few), int(many)], "rps": [low["rps"], high["rps"]],
                         "cpu_ms": [low.get("cpu_ms"), high.get("cpu_ms")],
                         "app_cores": [low.get("app_cores"), high.get("app_cores")],
                         "p95_ms": [low["p95_ms"], high["p95_ms"]],
                         "p95_growth": round(high["p95_ms"] / low["p95_ms"], 2)}
    return out


def targets(out: dict) -> dict:
    """Each target: {page: reached} or reached, None when not measured in this run."""
    kind = out["db"]
    reads = {n: s for n, s in out["pages"].items() if n not in WRITES and n != "healthz"}
    writes = {n: s for n, s in out["pages"].items() if n in WRITES}
    floor = out["pages"].get("healthz", {}).get("p50_ms")
    dashboard = out.get("dashboard_compute_ms")
    result = {
        f"read_p95_under_{TARGET_READ_P95_MS[kind]}ms": {n: s["p95_ms"] < TARGET_READ_P95_MS[kind]
                                                        for n, s in reads.items()},
        # Against /healthz measured beside the page (run_scales), else the run's own.
        f"read_p50_within_{TARGET_HEALTHZ_FACTOR}x_healthz": {
            n: s["p50_ms"] <= TARGET_HEALTHZ_FACTOR * (s.get("healthz_beside_p50_ms") or floor)
            for n, s in reads.items()} if floor else None,
        "p50_full_within_1.2x_small": {n: r <= TARGET_SCALING for n, r in out["scaling"].items()} or None,
        "queries_at_most_12": {n: (s["queries"] or 0) <= TARGET_QUERIES for n, s in out["pages"].items()},
        f"export_under_{TARGET_EXPORT_SECONDS[kind]}s": out["export"]["seconds"] < TARGET_EXPORT_SECONDS[kind],
        "export_growth_under_50mb": out["export"]["rss_growth_mb"] < TARGET_EXPORT_GROWTH_MB,
        "dashboard_compute_under_500ms": None if dashboard is None else dashboard < TARGET_DASHBOARD_COMPUTE_MS,
        "more_clients_same_or_more_rps": {n: c["rps"][1] >= c["rps"][0]
                                          for n, c in out["concurrency"].items()} or None,
        "more_clients_p95_at_most_4x": {n: c["p95_growth"] <= TARGET_P95_GROWTH
                                        for n, c in out["concurrency"].items()} or None,
    }
    if kind == "sqlite":
        result["write_p95_under_50ms"] = {n: s["p95_ms"] < TARGET_WRITE_P95_MS for n, s in writes.items()}
    return result


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cœurs ({cpu}), {memory:.0f} Gio, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def print_table(out: dict) -> None:
    log("")
    log(f"Résultats : échelle {out['scale']}, base {out['db']}, {out['clients']} clients — {out['machine']}")
    log("p50 serveur décomposé (médianes) : SQL, attente du verrou d'écriture, gabarits, reste ; « hz » : p50 "
        "de /healthz mesuré à côté de la page, à chaque tour, et « ×hz » le p50 de la page rapporté à lui ; "
        "débit et p95 à chaque niveau de clients ; « CPU » : temps processeur des workers par requête "
        "(ms) et cœurs qu'ils ont occupés ; « machine » : celui de toute la machine (workers, base, "
        "clients, noyau) par requête ; « plancher » : la latence moyenne que ce coût impose à lui seul "
        "(clients × machine / cœurs).")
    conc = out.get("concurrency", {})
    levels = next(iter(conc.values()))["clients"] if conc else []
    header = (f"{'page':<16} {'p50 ms':>7} {'p95 ms':>7} {'req/s':>6} {'CPU':>5} {'cœurs':>5} {'machine':>7} "
              f"{'plancher':>8} {'SQL':>3}  "
              f"{'serv.':>5} {'sql':>5} "
              f"{'verrou':>6} {'tpl':>5} {'reste':>5} {'tenu':>5}  {'small':>6} {'ratio':>5} {'÷hz':>5} "
              f"{'hz':>4} {'×hz':>4}"
              + (f"  {'req/s ' + str(levels[-1]):>10} {'p95 ' + str(levels[-1]):>8} {'×p95':>5}" if levels else ""))
    log(header)
    log("-" * len(header))
    small = (out.get("small") or {}).get("pages", {})
    for name, s in out["pages"].items():
        base = small.get(name, {}).get("p50_ms")
        t = s.get("server") or {}
        c = conc.get(name)
        line = (f"{name:<16} {s['p50_ms']:>7} {s['p95_ms']:>7} {s['rps']:>6} {s.get('cpu_ms') or '-':>5} "
                f"{s.get('app_cores') or '-':>5} {s.get('machine_cpu_ms') or '-':>7} {s.get('cpu_floor_ms') or '-':>8} "
                f"{s['queries'] or 0:>3}  "
                f"{t.get('total_p50_ms', '-'):>5} {t.get('sql_p50_ms', '-'):>5} {t.get('lock_p50_ms', '-'):>6} "
                f"{t.get('tpl_p50_ms', '-'):>5} {t.get('app_p50_ms', '-'):>5} {t.get('held_p50_ms', '-'):>5}  "
                f"{base if base is not None else '-':>6} {out['scaling'].get(name, '-'):>5} "
                f"{out['scaling_vs_healthz'].get(name, '-'):>5} {s.get('healthz_beside_p50_ms') or '-':>4} "
                f"{round(s['p50_ms'] / s['healthz_beside_p50_ms'], 1) if s.get('healthz_beside_p50_ms') else '-':>4}")
        if c:
            line += f"  {c['rps'][1]:>10} {c['p95_ms'][1]:>8} {c['p95_growth']:>5}"
        log(line)
    e = out["export"]
    log(f"Export RH CSV : {e['seconds']} s (la première fois, base lue du disque : {e.get('first_seconds', '-')} s), "
        f"{e['bytes'] / 1e6:.1f} Mo, pic mémoire du worker {e['peak_rss_mb']} Mo (+{e['rss_growth_mb']} Mo)")
    dashboard = out.get("dashboard_compute_ms")
    log(f"Calcul du tableau de bord : {'non mesuré' if dashboard is None else f'{dashboard} ms'}")
    missed, unmeasured = [], []
    for group, checks in out["targets"].items():
        if checks is None:
            unmeasured.append(group)
        elif isinstance(checks, dict):
            pages_missed = [name for name, ok in checks.items() if not ok]
            if pages_missed:
                missed.append(f"  {group} : {', '.join(pages_missed)}")
        elif not checks:
            missed.append(f"  {group}")
    log("Objectifs atteints." if not missed else "Objectifs manqués :\n" + "\n".join(missed))
    if unmeasured:
        log("Non mesurés : " + ", ".join(unmeasured))


def main() -> None:
    scale = os.environ.get("BENCH_SCALE", "full")
    kind = os.environ.get("BENCH_DB", "sqlite")
    levels = [int(x) for x in os.environ.get("BENCH_CLIENTS", "4 16").split()]
    seconds = float(os.environ.get("BENCH_SECONDS", "6"))
    if scale not in ("small", "medium", "full") or kind not in ("sqlite", "postgres"):
        raise SystemExit("BENCH_SCALE : small, medium ou full ; BENCH_DB : sqlite ou postgres.")
    rounds = max(1, int(os.environ.get("BENCH_ROUNDS", "3")))
    scaling = scale != "small" and os.environ.get("BENCH_SCALING", "1") != "0"
    results = run_scales(["small", scale] if scaling else [scale], kind, levels, seconds, rounds)
    main_run, small = results[scale], results.get("small")
    out = report(main_run, small, levels)
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(out, indent=2, ensure_ascii=False)
    (RESULTS / "latest.json").write_text(text + "\n", encoding="utf-8")
    if scale == "full":
        stamp = datetime.now().strftime("%Y-%m-%d")
        (RESULTS / f"{stamp}-{kind}-full.json").write_text(text + "\n", encoding="utf-8")
    print_table(out)
    log(f"\nÉcrit dans {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()



