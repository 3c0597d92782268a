#!/usr/bin/env bash
# The whole test suite: lint, the fast suite on SQLite with in-process jobs,
# then the services suite on PostgreSQL + Redis + real rq workers.
# EXCHANGE_SERVICES=required turns unreachable services into a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p test-output

fail() { echo "FAILED: $*"; exit 1; }

# pytest exit code 5 means "no tests collected": that is a failure here too.
run_pytest() {
  "$BIN/pytest" "$@"
  local code=$?
  [ "$code" -eq 5 ] && echo "pytest collected no tests"
  return "$code"
}

echo "== lint"
"$BIN/ruff" check . || fail "ruff check"
"$BIN/ruff" format --check . || fail "ruff format (run: .venv/bin/ruff format .)"

echo "== fast suite (SQLite, jobs in-process; tests/browser in a headless Chromium)"
EXCHANGE_TEST_BACKEND=sqlite run_pytest tests/unit tests/integration tests/api tests/e2e tests/browser \
  --junitxml=test-output/fast.xml || fail "fast suite"
# Without Chromium the browser tests skip themselves (and fail when CI=true): say so loudly.
if [ -x /usr/bin/chromium ]; then
  echo "browser tests: ran in /usr/bin/chromium"
else
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!! The browser tests (tests/browser) did NOT run: no /usr/bin/chromium."
  echo "!! Install Debian's chromium to run them: apt-get install -y chromium"
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "browser tests: NOT RUN (no /usr/bin/chromium)"
fi

reason=$("$BIN/python" scripts/services_probe.py)
if [ -z "$reason" ]; then
  echo "== services suite (PostgreSQL, Redis, rq workers)"
  EXCHANGE_TEST_BACKEND=services run_pytest tests/integration tests/api tests/e2e tests/services \
    --junitxml=test-output/services.xml || fail "services suite"
  echo "services suite: ran against PostgreSQL and Redis"
  # The soak with faults (bench/soak.py, docs/operations.md): in CI, or when SOAK_SECONDS asks.
  if [ "${CI:-}" = "true" ] || [ -n "${SOAK_SECONDS:-}" ]; then
    echo "== soak with faults (${SOAK_SECONDS:-180} s)"
    "$BIN/python" bench/soak.py --seconds "${SOAK_SECONDS:-180}" || fail "soak"
  fi
else
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!! The services suite (PostgreSQL, Redis, rq workers) did NOT run."
  echo "!! Only the fast suite on SQLite was tested."
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "services suite: NOT RUN ($reason)"
  if [ "${EXCHANGE_SERVICES:-}" = "required" ]; then
    fail "EXCHANGE_SERVICES=required but the services are not reachable"
  fi
fi
