"""gunicorn's settings for the exchange, each chosen on purpose (docs/operations.md,
"Processes"): ``gunicorn -c deploy/gunicorn.conf.py wsgi:app``, as the Procfile's ``web``.

Kept out of the project's root on purpose: gunicorn reads ``./gunicorn.conf.py`` whenever
it is started there, and the click benchmark (bench/clicks.py) serves the app with settings
of its own.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# Threads, not sync workers: a catalog purchase waits for its turn at the till, and API
# calls wait on the database; a waiting request must not hold a whole process, and the
# catalog fills the orders waiting together (sync workers would allow as many requests in
# flight as processes). One process per core, a few threads each.
worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", os.cpu_count() or 2))
threads = int(os.environ.get("WEB_THREADS", "8"))

# A request still running after 30 s is stuck (the slowest legitimate one, a 4 MB upload,
# takes a few seconds): its worker is killed and replaced. On SIGTERM, requests in flight
# get as long to finish.
timeout = 30
graceful_timeout = 30
# Behind a reverse proxy that keeps connections open to us: reuse them for a while.
keepalive = 5
# Each worker is replaced after about 10,000 requests: memory a leak would take stays bounded.
max_requests = 10_000
max_requests_jitter = 1_000

# One access line per request on stdout, with the request id the app returns
# (X-Request-ID): the same id is on the app's own lines of that request (docs/operations.md, "Logs").
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
errorlog = "-"


def _log_format() -> str:
    """The app's rule (exchange/config.py): LOG_FORMAT, else JSON in production, which is
    what the app is under gunicorn unless EXCHANGE_ENV says otherwise (wsgi.py)."""
    production = (os.environ.get("EXCHANGE_ENV") or "production") == "production"
    return os.environ.get("LOG_FORMAT") or ("json" if production else "text")


if _log_format() == "json":  # gunicorn's own lines (workers booted, timeouts, each access) as JSON too
    _json = {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
    }
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": _json},
        "handlers": {
            "error": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            "access": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["error"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
        "root": {"level": "INFO", "handlers": []},  # the app's own handler goes there (exchange/logs.py)
    }


def child_exit(server, worker):
    """A worker that exits leaves its metrics' files behind for the others to sum (counters
    keep counting across restarts); prometheus-client is told it is gone (docs/operations.md,
    "Metrics")."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
