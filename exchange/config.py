"""Configuration from the environment, one plain class per mode.

A secret never has a fallback value: production refuses to start without
``SECRET_KEY``. Development keeps a random key under ``instance/`` so that
sessions survive a restart of the demo server.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    """The environment does not describe a configuration we can run."""


class BaseConfig:
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    REDIS_URL: str | None = None
    # Run in-process jobs' exceptions up to the caller (tests) or only log them.
    JOBS_RAISE_ERRORS = False
    # Smallest payout a webmaster may request, per currency, in minor units.
    PAYOUT_MINIMUM_MINOR = {"default": 1000}
    # A lead still `received` after this long is enqueued again by the sweep.
    STUCK_RECEIVED_SECONDS = 300
    # Seconds between two runs of the periodic sweep in the demo server.
    SWEEP_INTERVAL_SECONDS = 30
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


class TestingConfig(BaseConfig):
    TESTING = True
    JOBS_RAISE_ERRORS = True
    WTF_CSRF_ENABLED = False


class ProductionConfig(BaseConfig):
    SESSION_COOKIE_SECURE = True


MODES = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the configuration dict for ``EXCHANGE_ENV`` (default development)."""
    overrides = overrides or {}
    mode = overrides.get("EXCHANGE_ENV") or os.environ.get("EXCHANGE_ENV", "development")
    if mode not in MODES:
        raise ConfigError(f"EXCHANGE_ENV must be one of {sorted(MODES)}, not {mode!r}")
    base = MODES[mode]
    config = {key: getattr(base, key) for key in dir(base) if key.isupper()}
    config["EXCHANGE_ENV"] = mode
    config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL") or _sqlite_url(instance_path)
    config["REDIS_URL"] = os.environ.get("REDIS_URL") or None
    config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or None
    config.update(overrides)
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    if not config["SECRET_KEY"]:
        if mode == "production":
            raise ConfigError("SECRET_KEY must be set in production")
        config["SECRET_KEY"] = _instance_secret(instance_path)
    return config


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
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
