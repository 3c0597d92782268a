"""Configuration from the environment: modes, secrets, database URLs."""

from __future__ import annotations

import pytest

from exchange.config import AUCTION_NUMBERS, POOL_NUMBERS, ConfigError, load_config, normalise_database_url


@pytest.fixture
def clean_env(monkeypatch):
    for name in (
        "EXCHANGE_ENV",
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "FLASK_DEBUG",
        "DATABASE_POOL_PRE_PING",
        *AUCTION_NUMBERS,
        *POOL_NUMBERS,
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_refuses_to_start_without_a_secret_key(clean_env, tmp_path):
    clean_env.setenv("EXCHANGE_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(str(tmp_path))
    assert not (tmp_path / "secret_key").exists()  # no fallback was invented


def test_production_takes_its_secret_and_services_from_the_environment(clean_env, tmp_path):
    clean_env.setenv("EXCHANGE_ENV", "production")
    clean_env.setenv("SECRET_KEY", "s3cret-from-env-" + "x" * 16)
    clean_env.setenv("DATABASE_URL", "postgresql://u@db/exchange")
    clean_env.setenv("REDIS_URL", "redis://cache:6379/0")
    config = load_config(str(tmp_path))
    assert config["SECRET_KEY"] == "s3cret-from-env-" + "x" * 16
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/exchange"
    assert config["REDIS_URL"] == "redis://cache:6379/0"
    assert config["SESSION_COOKIE_SECURE"] is True


def production_env(clean_env, secret: str = "k" * 32) -> None:
    clean_env.setenv("EXCHANGE_ENV", "production")
    clean_env.setenv("SECRET_KEY", secret)
    clean_env.setenv("DATABASE_URL", "postgresql://u@db/exchange")
    clean_env.setenv("REDIS_URL", "redis://cache:6379/0")


def test_production_refuses_a_secret_key_shorter_than_32_bytes(clean_env, tmp_path):
    production_env(clean_env, secret="k" * 31)
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        load_config(str(tmp_path))
    production_env(clean_env, secret="ключ" * 4)  # 16 bytes: 32 in UTF-8, enough
    assert load_config(str(tmp_path))["SECRET_KEY"] == "ключ" * 4


@pytest.mark.parametrize("debug", [{"env": "1"}, {"env": "true"}, {"override": True}])
def test_production_refuses_to_run_with_debug_on(clean_env, tmp_path, debug):
    production_env(clean_env)
    if "env" in debug:
        clean_env.setenv("FLASK_DEBUG", debug["env"])
    with pytest.raises(ConfigError, match="debug"):
        load_config(str(tmp_path), {"DEBUG": True} if "override" in debug else None)


def test_production_runs_with_debug_off(clean_env, tmp_path):
    production_env(clean_env)
    clean_env.setenv("FLASK_DEBUG", "0")
    assert load_config(str(tmp_path))["EXCHANGE_ENV"] == "production"


def test_development_defaults_to_sqlite_in_the_instance_folder_and_in_process_jobs(clean_env, tmp_path):
    config = load_config(str(tmp_path))
    assert config["EXCHANGE_ENV"] == "development"
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    assert config["REDIS_URL"] is None


def test_development_keeps_one_random_secret_per_instance(clean_env, tmp_path):
    first = load_config(str(tmp_path))["SECRET_KEY"]
    second = load_config(str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) >= 64
    assert load_config(str(tmp_path / "other"))["SECRET_KEY"] != first


def test_an_unknown_mode_is_refused(clean_env, tmp_path):
    clean_env.setenv("EXCHANGE_ENV", "staging")
    with pytest.raises(ConfigError, match="EXCHANGE_ENV"):
        load_config(str(tmp_path))


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg_3(given, used):
    assert normalise_database_url(given) == used


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL"])
def test_production_refuses_to_fall_back_to_sqlite_or_in_process_jobs(clean_env, tmp_path, missing):
    clean_env.setenv("EXCHANGE_ENV", "production")
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        clean_env.setenv(name, "postgresql://u@h/d" if name == "DATABASE_URL" else "x" * 32)
    clean_env.delenv(missing)
    with pytest.raises(ConfigError, match=missing):
        load_config(str(tmp_path))


def test_the_development_secret_file_is_private_to_its_owner(clean_env, tmp_path):
    load_config(str(tmp_path))
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_job_timeout_and_retries_are_declared_and_read_from_the_environment(clean_env, tmp_path):
    assert (
        load_config(str(tmp_path))["JOB_TIMEOUT_SECONDS"],
        load_config(str(tmp_path))["JOB_RETRY_INTERVALS"],
    ) == (
        180,
        (10, 60, 300),
    )
    clean_env.setenv("JOB_TIMEOUT_SECONDS", "30")
    clean_env.setenv("JOB_RETRY_INTERVALS", "5,50")
    config = load_config(str(tmp_path))
    assert (config["JOB_TIMEOUT_SECONDS"], config["JOB_RETRY_INTERVALS"]) == (30, (5, 50))


def test_the_auctioneers_numbers_are_read_from_the_environment(clean_env, tmp_path):
    defaults = load_config(str(tmp_path))
    clean_env.setenv("AUCTION_CONCURRENCY", "128")
    clean_env.setenv("AUCTION_LEASE_SECONDS", "10")
    clean_env.setenv("AUCTION_DEADLINE_MS", "0")
    clean_env.setenv("AUCTION_DB_THREADS", "3")

    config = load_config(str(tmp_path))

    assert (config["AUCTION_CONCURRENCY"], config["AUCTION_LEASE_SECONDS"]) == (128, 10)
    assert config["AUCTION_DEADLINE_MS"] == 1, "never zero"
    assert config["AUCTION_DB_THREADS"] == 3 != defaults["AUCTION_DB_THREADS"]
    assert config["AUCTION_PING_TIMEOUT_MS"] == defaults["AUCTION_PING_TIMEOUT_MS"]


def test_production_tests_each_pooled_connection_and_sizes_its_pool_from_the_environment(clean_env, tmp_path):
    production_env(clean_env)
    defaults = load_config(str(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"]
    clean_env.setenv("DATABASE_POOL_SIZE", "20")
    clean_env.setenv("DATABASE_MAX_OVERFLOW", "0")
    clean_env.setenv("DATABASE_POOL_TIMEOUT", "5")
    clean_env.setenv("DATABASE_POOL_PRE_PING", "false")
    tuned = load_config(str(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"]

    assert defaults == {
        "pool_size": 5,
        "max_overflow": 10,
        "pool_timeout": 30,
        "pool_pre_ping": True,
        "hide_parameters": True,
    }
    assert tuned == {
        "pool_size": 20,
        "max_overflow": 0,
        "pool_timeout": 5,
        "pool_pre_ping": False,
        "hide_parameters": True,
    }


def test_sqlite_gets_no_pool_settings_and_options_given_whole_win(clean_env, tmp_path):
    embedded = load_config(str(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"]
    clean_env.setenv("DATABASE_URL", "postgresql://u@db/exchange")
    given = load_config(str(tmp_path), {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2}})[
        "SQLALCHEMY_ENGINE_OPTIONS"
    ]

    assert embedded == {"hide_parameters": True}
    assert given["pool_size"] == 2
    assert given["pool_pre_ping"] is False  # development's default
