"""``gunicorn wsgi:app`` is production unless told otherwise; the ``flask`` command, which
loads the same module, keeps the development default."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.http_harness import ROOT

SHOW_MODE = "import wsgi; print(wsgi.app.config['EXCHANGE_ENV'])"


def load_wsgi(tmp_path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("EXCHANGE_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "FLASK_RUN_FROM_CLI")
    }
    clean.update(EXCHANGE_INSTANCE_PATH=str(tmp_path), PYTHONPATH=str(ROOT), **env)
    return subprocess.run(
        [sys.executable, "-c", SHOW_MODE], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def test_served_without_exchange_env_it_is_production_and_refuses_to_start_unconfigured(tmp_path):
    result = load_wsgi(tmp_path)

    assert result.returncode != 0
    assert "production needs SECRET_KEY" in result.stderr


def test_served_with_exchange_env_it_runs_in_that_mode(tmp_path):
    assert load_wsgi(tmp_path, EXCHANGE_ENV="development").stdout.strip() == "development"


def test_loaded_by_the_flask_command_it_keeps_the_development_default(tmp_path):
    assert load_wsgi(tmp_path, FLASK_RUN_FROM_CLI="true").stdout.strip() == "development"
