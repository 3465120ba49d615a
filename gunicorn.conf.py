"""gunicorn settings shared by `make run`, the benchmark and production.

Worker model: one single-threaded process per core (2 on the 2-core reference machine).
The app is CPU-bound Python (templates, SQL mapping) behind nginx, which buffers slow
clients.
- Threads in one process share its interpreter lock: a thread whose query had finished
  waited for another thread's Python to give the lock back (up to 5 ms, for each query of
  a page). At 4 clients on the full-scale bench, 4 processes x 1 thread against 2 x 4:
  project page p95 27 ms instead of 37, HR report 28 instead of 43. A smaller switch
  interval (0.5 ms) gained nothing.
- One process per core rather than two: each request then runs alone on its core until it
  is answered, the next ones waiting their turn in the kernel's queue, instead of two
  processes sharing a core by time slices (each request taking twice as long) and evicting
  each other's data from the processor's caches. Measured on 2 December (two servers on the same
  data, measured in turn in bench/run.py's windows, 4 rounds of 3 s; SQLite full scale,
  4 clients, 2 x 1 against 4 x 1): project page p95 27 ms instead of 35, approvals 33 instead of 42,
  vote 38 instead of 45, board 16 instead of 21; 4 to 20 % more requests per second
  (6 to 21 % at 16 clients), and 7 to 19 % less processor time per request. On
  PostgreSQL (medium scale, server on the same cores): p95 34 to 42 ms instead of 45 to 53, and 11 to 16 % more
  requests per second. 2 x 2 fell in between (the interpreter lock again).
- The cost: a request that waits holds its process. Writers queue for SQLite's write gate
  for a few milliseconds; a sign-in through single sign-on waits for the identity
  provider (two calls, OIDC_TIMEOUT each at most). With a slow provider, raise the count
  (WEB_CONCURRENCY=4, or GUNICORN_THREADS=2).
Override with WEB_CONCURRENCY (processes) and GUNICORN_THREADS.
"""

import gc
import os

workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 1))
# A process takes a connection only when one of its threads is free; the others wait in the
# kernel's queue for whichever process frees a thread first. With gunicorn's default (1,000),
# one process queued requests behind its busy threads while another had free ones: at
# 16 clients on 2 cores, the bench's p95 grew × 4.4 on the busiest pages, × 3.3 with this
# (2 x 4 then).
worker_connections = threads
# Streamed exports of a large institution take a few seconds; a worker stuck longer is killed.
timeout = 120
graceful_timeout = 30
# One request a connection (nginx's default towards its upstream): a connection kept open
# would hold a process's place in the count above, and pin its client to that process.
keepalive = 0
# No gunicorn access log: the application writes one line per request itself, with the
# user, the request id and the duration (incubator/observability.py), on stderr.


def post_worker_init(worker):
    """Once the worker has loaded the application: everything alive now (modules, mappers,
    templates, compiled statements) lives as long as the process, so the garbage collector
    stops walking it. Each full collection walked these hundreds of thousands of objects
    again, for the few a request leaves in cycles: with this, 4 clients on the full-scale
    bench, the board's p50 33 ms instead of 37, the project page's 51 instead of 56
    (median of three alternated runs of each)."""
    gc.collect()
    gc.freeze()
