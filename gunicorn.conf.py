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
# Streamed exports of a large institution take a few seconds; a worker stuck longer is killed.
timeout = 120
graceful_timeout = 30
keepalive = 5
# No gunicorn access log: the application writes one line per request itself, with the
# user, the request id and the duration (incubator/observability.py), on stderr.
