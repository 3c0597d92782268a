"""Configuration from the environment, one plain class per mode.

Production refuses to start without ``SECRET_KEY``, ``DATABASE_URL`` and
``REDIS_URL``: none of them falls back to a default there. Development (the
default mode, for ``make run``) keeps a random key under ``instance/`` so
that sessions survive a restart of the demo server.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    """The environment does not describe a configuration we can run."""


class BaseConfig:
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # Keep bound values (emails, phones) out of error messages and logs.
    SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}
    # How many reverse proxies in front of the app set X-Forwarded-* (0: none).
    PROXY_HOPS = 0
    # The largest request body (bytes): Flask answers 413 before reading more. The biggest
    # legitimate one is a decisions import (2 MB of CSV, docs/tasks.md) in its multipart form.
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    REDIS_URL: str | None = None
    # Run in-process jobs' exceptions up to the caller (tests) or only log them.
    JOBS_RAISE_ERRORS = False
    # Smallest payout a webmaster may request, per currency, in minor units.
    PAYOUT_MINIMUM_MINOR = {"default": 1000}
    # A Stripe Connect payout still `requested` after this long has its job queued again.
    PAYOUT_STUCK_SECONDS = 300
    # A lead still `received` after this long, whose validation job is neither waiting nor
    # running on a live worker, is enqueued again by the sweep (its leads' step runs every
    # 20 s): a lead held by a worker that died is validated within a minute (docs/queue.md).
    STUCK_RECEIVED_SECONDS = 30
    # On rq workers a validation job decides its lead and up to this many received leads in all,
    # in one transaction (docs/queue.md); in-process jobs decide one lead.
    VALIDATION_BATCH_SIZE = 50
    # rq jobs: how long one may run before rq stops it, and the backoff (seconds) of its
    # retries after it raised; also from the environment (JOB_RETRY_INTERVALS="10,60,300").
    JOB_TIMEOUT_SECONDS = 180
    JOB_RETRY_INTERVALS = (10, 60, 300)
    # Validation jobs take well under a second (a batch of 50 leads): a shorter timeout lets
    # the sweep see the job of a worker that died as abandoned sooner (its lead waits less).
    VALIDATION_JOB_TIMEOUT_SECONDS = 30
    # Jobs on the `tasks` queue (long exports and imports, docs/tasks.md) have their own timeout;
    # a finished task's file (an export's CSV, an import's upload) is deleted after so many days.
    TASK_JOB_TIMEOUT_SECONDS = 1800
    TASK_RESULT_DAYS = 7
    # How long each process may reuse a tracking link's target (0: read it every click).
    LINK_CACHE_SECONDS = 5.0
    # One run of a sweep step does at most so many items of each kind of work, and starts no
    # new item after so many seconds (far inside JOB_TIMEOUT_SECONDS): the rest waits for the
    # next run, however large the backlog (exchange/db.py, StepBudget).
    SWEEP_BATCH_SIZE = 1000
    SWEEP_STEP_SECONDS = 60
    # Seconds between two runs of the periodic sweep in the demo server.
    SWEEP_INTERVAL_SECONDS = 30
    # Webmaster postbacks: how long to wait for the tracker, and whether a tracker may sit on
    # a loopback or private address (never in production: it would let anyone probe our network).
    POSTBACK_TIMEOUT_SECONDS = 5.0
    POSTBACK_ALLOW_PRIVATE_ADDRESSES = False
    # Advertiser lead delivery (signed webhooks): the same two settings, for the advertiser's endpoint.
    DELIVERY_TIMEOUT_SECONDS = 10.0
    DELIVERY_ALLOW_PRIVATE_ADDRESSES = False
    # The exchange's auctions (docs/exchange.md): one deadline for the whole auction, at most
    # so long for each buyer's ping, how long a post may take, how many auctions one
    # auctioneer runs at once, and how long its claim on an auction lasts before another
    # auctioneer may take the auction over (a crashed one). AUCTION_DB_THREADS: the threads
    # an auctioneer runs its database steps on; few, so that its event loop (the pings'
    # timers) is not kept waiting for the interpreter (bench/auction.py: 2 beat 6 and 12).
    # AUCTION_CONCURRENCY: an auction under load lives about a second (the pings, then its
    # turn in a settle batch), so 80 at once (bench/auction.py: 80 beat 64 and 96).
    AUCTION_DEADLINE_MS = 750
    AUCTION_PING_TIMEOUT_MS = 500
    AUCTION_POST_TIMEOUT_SECONDS = 5.0
    # How long a seller has to concede or contest a buyer's return of a sale (then it goes
    # to the moderators, as an offer's dispute does).
    SALE_RETURN_ANSWER_SECONDS = 3 * 86400
    # How often the sweep counts sellers' and buyers' records again (exchange/quality).
    QUALITY_EVERY_SECONDS = 600
    AUCTION_CONCURRENCY = 80
    AUCTION_LEASE_SECONDS = 30
    AUCTION_DB_THREADS = 2
    AUCTION_ALLOW_PRIVATE_ADDRESSES = False
    # Card top-ups through Stripe; without STRIPE_SECRET_KEY only admin (manual) credits exist.
    # STRIPE_API_BASE points the official library elsewhere (localstripe in the tests).
    STRIPE_SECRET_KEY: str | None = None
    STRIPE_PUBLISHABLE_KEY: str | None = None
    STRIPE_WEBHOOK_SECRET: str | None = None
    STRIPE_API_BASE: str | None = None
    STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300
    # Stripe.js, the one external script: the top-up page's card Element comes from it.
    STRIPE_JS_URL = "https://js.stripe.com/v3/"
    TOPUP_MINIMUM_MINOR = 500
    # Partner moderation (docs/moderation.md): "moderator" makes a new webmaster pending until
    # a moderator approves it; "auto" approves every new webmaster at once.
    WEBMASTER_APPROVAL = "moderator"
    # How long moderators have to decide a dispute once it reaches their queue.
    MODERATION_DECISION_SECONDS = 2 * 86400
    # Limits on abuse (exchange/rate_limits.py, docs/security.md): windows separated by ";",
    # the caller waits for the one that is full. Sign-ins count failures only: 5 cost a
    # minute's wait, 10 a quarter of an hour, 20 lock the account for the hour. Clicks are
    # counted by each process apart (no network round trip on a click). Counted in Redis
    # when REDIS_URL is set, else in memory (RATELIMIT_STORAGE_URI overrides both).
    LIMIT_SIGN_IN_PER_ACCOUNT = "5 per minute;10 per 15 minutes;20 per hour"
    LIMIT_SIGN_IN_PER_ADDRESS = "30 per minute;200 per hour"
    LIMIT_SIGN_UP_PER_ADDRESS = "5 per hour;20 per day"
    LIMIT_MAIL_LINKS_PER_ADDRESS = "5 per 15 minutes;20 per day"
    LIMIT_API_PER_KEY = "100 per second;3000 per minute"
    LIMIT_LEAD_INTAKE_PER_WEBMASTER = "50 per second;1500 per minute"
    LIMIT_POSTBACKS_PER_TOKEN = "50 per second;1500 per minute"
    LIMIT_HOSTED_FORM_PER_ADDRESS = "10 per minute;60 per hour"
    LIMIT_CLICKS_PER_ADDRESS = "600 per minute"
    RATELIMIT_ENABLED = True
    # GET /metrics (docs/operations.md, "Metrics"): off unless asked for; with a token, a
    # scrape must carry it (Authorization: Bearer). METRICS_ENABLED also times every request.
    METRICS_ENABLED = False
    METRICS_TOKEN: str | None = None
    # GET /readyz (exchange/health.py, docs/operations.md): failing when no scheduler (rq cron)
    # has beaten its heart for so long (it beats at least once a minute), or when so many
    # clicks wait in the buffer for the flusher. Also from the environment.
    READY_SCHEDULER_STALE_SECONDS = 180
    READY_CLICK_BUFFER_MAX = 100_000
    # Each process's pool of PostgreSQL connections (docs/operations.md, "PostgreSQL"): its
    # size, how many more it may open at a peak, how long a request waits for one, and
    # whether a connection is tested before each use (a round trip per transaction;
    # production's default, so that a restarted server or a failover costs no request an
    # error). Also from the environment. SQLite keeps one file and its own pool.
    DATABASE_POOL_SIZE = 5
    DATABASE_MAX_OVERFLOW = 10
    DATABASE_POOL_TIMEOUT = 30
    DATABASE_POOL_PRE_PING = False
    # Mail to people (exchange/mail/, docs/operations.md "Mail"): "file" writes each mail
    # to MAIL_FILE_DIR (default instance/mail) and logs it; "smtp" sends it through
    # MAIL_SMTP_HOST (production's default). Also from the environment.
    MAIL_BACKEND = "file"
    MAIL_FROM = "Lead exchange <no-reply@localhost>"
    MAIL_FILE_DIR: str | None = None
    MAIL_SMTP_HOST = "localhost"
    MAIL_SMTP_PORT = 587
    MAIL_SMTP_SECURITY = "starttls"
    MAIL_SMTP_USER: str | None = None
    MAIL_SMTP_PASSWORD: str | None = None
    # Log lines as "text" or "json" (one JSON object a line, for a log shipper; production's
    # default). Also from the environment (LOG_FORMAT=text).
    LOG_FORMAT = "text"
    API_TITLE = "Lead exchange API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"


class DevelopmentConfig(BaseConfig):
    DEBUG = False
    POSTBACK_ALLOW_PRIVATE_ADDRESSES = True
    DELIVERY_ALLOW_PRIVATE_ADDRESSES = True
    AUCTION_ALLOW_PRIVATE_ADDRESSES = True


class TestingConfig(BaseConfig):
    TESTING = True
    # Each test's app counts alone; tests of the Redis counts say so (RATELIMIT_STORAGE_URI).
    RATELIMIT_STORAGE_URI = "memory://"
    LINK_CACHE_SECONDS = 0.0
    JOBS_RAISE_ERRORS = True
    WTF_CSRF_ENABLED = False
    POSTBACK_ALLOW_PRIVATE_ADDRESSES = True
    DELIVERY_ALLOW_PRIVATE_ADDRESSES = True
    AUCTION_ALLOW_PRIVATE_ADDRESSES = True


class ProductionConfig(BaseConfig):
    SESSION_COOKIE_SECURE = True
    MAIL_BACKEND = "smtp"
    LOG_FORMAT = "json"
    DATABASE_POOL_PRE_PING = True
    POSTBACK_ALLOW_PRIVATE_ADDRESSES = False
    DELIVERY_ALLOW_PRIVATE_ADDRESSES = False
    AUCTION_ALLOW_PRIVATE_ADDRESSES = False


MIN_SECRET_BYTES = 32

# environment variable -> config key; production has no fallback for any of them
PRODUCTION_REQUIRES = {
    "SECRET_KEY": "SECRET_KEY",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "REDIS_URL": "REDIS_URL",
}

WEBMASTER_APPROVAL_MODES = ("moderator", "auto")
LOG_FORMATS = ("text", "json")
MAIL_SETTINGS = tuple(name for name in dir(BaseConfig) if name.startswith("MAIL_"))
MAIL_BACKENDS = ("file", "smtp")
MAIL_SECURITIES = ("starttls", "ssl", "none")
# settings that must be one of a few words
ONE_OF = {
    "WEBMASTER_APPROVAL": WEBMASTER_APPROVAL_MODES,
    "LOG_FORMAT": LOG_FORMATS,
    "MAIL_BACKEND": MAIL_BACKENDS,
    "MAIL_SMTP_SECURITY": MAIL_SECURITIES,
}
LIMIT_NAMES = tuple(name for name in dir(BaseConfig) if name.startswith("LIMIT_"))
READY_NUMBERS = ("READY_SCHEDULER_STALE_SECONDS", "READY_CLICK_BUFFER_MAX")
# the pool's numbers read from the environment, each with the least it may be
POOL_NUMBERS = {"DATABASE_POOL_SIZE": 1, "DATABASE_MAX_OVERFLOW": 0, "DATABASE_POOL_TIMEOUT": 1}
AUCTION_NUMBERS = (
    "AUCTION_DEADLINE_MS",
    "AUCTION_PING_TIMEOUT_MS",
    "AUCTION_CONCURRENCY",
    "AUCTION_LEASE_SECONDS",
    "AUCTION_DB_THREADS",
)

MODES = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the configuration dict for ``EXCHANGE_ENV`` (default development).

    ``overrides`` (tests, tools) take precedence over the environment."""
    overrides = overrides or {}
    mode = overrides.get("EXCHANGE_ENV") or os.environ.get("EXCHANGE_ENV", "development")
    if mode not in MODES:
        raise ConfigError(f"EXCHANGE_ENV must be one of {sorted(MODES)}, not {mode!r}")
    base = MODES[mode]
    config = {key: getattr(base, key) for key in dir(base) if key.isupper()}
    config["EXCHANGE_ENV"] = mode
    config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL") or None
    config["REDIS_URL"] = os.environ.get("REDIS_URL") or None
    config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or None
    config["PROXY_HOPS"] = int(os.environ.get("PROXY_HOPS", "0"))
    for name in (
        "STRIPE_SECRET_KEY",
        "STRIPE_PUBLISHABLE_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_API_BASE",
        "STRIPE_JS_URL",
    ):
        if os.environ.get(name):
            config[name] = os.environ[name]
    if os.environ.get("WEBMASTER_APPROVAL"):
        config["WEBMASTER_APPROVAL"] = os.environ["WEBMASTER_APPROVAL"]
    if os.environ.get("JOB_TIMEOUT_SECONDS"):
        config["JOB_TIMEOUT_SECONDS"] = max(1, int(os.environ["JOB_TIMEOUT_SECONDS"]))
    for name in ("TASK_JOB_TIMEOUT_SECONDS", "VALIDATION_JOB_TIMEOUT_SECONDS"):
        if os.environ.get(name):
            config[name] = max(1, int(os.environ[name]))
    if os.environ.get("JOB_RETRY_INTERVALS"):
        config["JOB_RETRY_INTERVALS"] = tuple(
            int(part) for part in os.environ["JOB_RETRY_INTERVALS"].split(",")
        )
    if os.environ.get("VALIDATION_BATCH_SIZE"):
        config["VALIDATION_BATCH_SIZE"] = max(1, int(os.environ["VALIDATION_BATCH_SIZE"]))
    for name in [*LIMIT_NAMES, "RATELIMIT_STORAGE_URI"]:
        if os.environ.get(name):
            config[name] = os.environ[name]
    if os.environ.get("RATELIMIT_ENABLED"):
        config["RATELIMIT_ENABLED"] = _is_on(os.environ["RATELIMIT_ENABLED"])
    if os.environ.get("METRICS_ENABLED"):
        config["METRICS_ENABLED"] = _is_on(os.environ["METRICS_ENABLED"])
    if os.environ.get("METRICS_TOKEN"):
        config["METRICS_TOKEN"] = os.environ["METRICS_TOKEN"]
    if os.environ.get("LOG_FORMAT"):
        config["LOG_FORMAT"] = os.environ["LOG_FORMAT"]
    for name in MAIL_SETTINGS:
        if os.environ.get(name):
            config[name] = os.environ[name]
    for name in READY_NUMBERS:
        if os.environ.get(name):
            config[name] = max(1, int(os.environ[name]))
    for name, least in POOL_NUMBERS.items():
        if os.environ.get(name):
            config[name] = max(least, int(os.environ[name]))
    if os.environ.get("DATABASE_POOL_PRE_PING"):
        config["DATABASE_POOL_PRE_PING"] = _is_on(os.environ["DATABASE_POOL_PRE_PING"])
    for name in AUCTION_NUMBERS:  # the auctioneer's, tuned per machine
        if os.environ.get(name):
            config[name] = max(1, int(os.environ[name]))
    config.update(overrides)
    for name, choices in ONE_OF.items():
        if config[name] not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {config[name]!r}")
    if mode == "production":
        _refuse_unsafe_production(config)
    config.setdefault("RATELIMIT_STORAGE_URI", config["REDIS_URL"] or "memory://")
    _check_limits(config)
    database_url = config["SQLALCHEMY_DATABASE_URI"] or _sqlite_url(instance_path)
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(database_url)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(config)
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _instance_secret(instance_path)
    return config


def _refuse_unsafe_production(config: dict) -> None:
    """Production runs only with its services set, a secret long enough not to be guessed
    (sessions and click ids are signed with it) and no debugger (it runs code typed into
    an error page)."""
    missing = [name for name, key in PRODUCTION_REQUIRES.items() if not config[key]]
    if missing:
        raise ConfigError(f"production needs {', '.join(missing)} set in the environment")
    if len(config["SECRET_KEY"].encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"production needs a SECRET_KEY of at least {MIN_SECRET_BYTES} bytes "
            "(python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    if config.get("DEBUG") or os.environ.get("FLASK_DEBUG", "").lower() not in ("", "0", "false", "no"):
        raise ConfigError("production refuses to run with debug on (DEBUG, FLASK_DEBUG or --debug)")


def _check_limits(config: dict) -> None:
    from limits import parse_many

    for name in LIMIT_NAMES:
        try:
            parse_many(config[name])
        except ValueError:
            raise ConfigError(
                f"{name} must be windows like '5 per minute;20 per hour', not {config[name]!r}"
            ) from None


def _is_on(value: str) -> bool:
    return value.lower() not in ("0", "false", "no")


def _engine_options(config: dict) -> dict:
    """The pool settings, for a server database; options given whole (a tool's, a test's)
    win over them."""
    given = config["SQLALCHEMY_ENGINE_OPTIONS"]
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return dict(given)
    pool = {
        "pool_size": config["DATABASE_POOL_SIZE"],
        "max_overflow": config["DATABASE_MAX_OVERFLOW"],
        "pool_timeout": config["DATABASE_POOL_TIMEOUT"],
        "pool_pre_ping": config["DATABASE_POOL_PRE_PING"],
    }
    return {**pool, **given}


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the common way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "exchange.sqlite")


def _instance_secret(instance_path: str) -> str:
    """A random key kept in the instance folder (development and tests only)."""
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # created once, readable by its owner only, even with processes starting together
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()
