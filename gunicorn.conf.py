"""gunicorn settings shared by `make run`, the benchmark and production.

Worker model: one process per core (the app is CPU-bound Python: templates, SQL mapping),
each with a few threads so that a request waiting on the database or a slow client does not
hold a whole core. On the 2-core reference machine: 2 processes x 4 threads. Override with
WEB_CONCURRENCY (processes) and GUNICORN_THREADS.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# A process takes a connection only when one of its threads is free; the others wait in the
# kernel's queue for whichever process frees a thread first. With gunicorn's default (1,000),
# one process queued requests behind its busy threads while the other had free ones: at
# 16 clients on 2 cores, the bench's p95 grew × 4.4 on the busiest pages, × 3.3 with this.
worker_connections = threads
# Streamed exports of a large institution take a few seconds; a worker stuck longer is killed.
timeout = 120
graceful_timeout = 30
# One request a connection (nginx's default towards its upstream): a connection kept open
# would hold a process's place in the count above, and pin its client to that process.
keepalive = 0
# No gunicorn access log: the application writes one line per request itself, with the
# user, the request id and the duration (incubator/observability.py), on stderr.
