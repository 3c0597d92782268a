"""A real headless Chromium, driven by Playwright, for the portal pages.

The browser is Debian's ``chromium`` package at /usr/bin/chromium; Playwright's own
browser downloads are never used. Without it these tests FAIL when ``CI=true`` and are
reported as not run (skipped, with the reason) elsewhere; ``scripts/run-tests.sh`` says
so in its summary. A failing test leaves ``test-output/screenshots/<test name>.png``
and prints the page's console. A page that broke the Content-Security-Policy (a script,
style or frame it refused: the console says so) fails the test at teardown: every page
must work under the policy (exchange/security_headers.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
STEP_TIMEOUT_MS = 10_000  # one page step; a broken page fails in seconds, not minutes


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so ``page`` knows at teardown whether it failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(f"NOT RUN: {message}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context (no cookies) and its page; a screenshot if the test failed."""
    context = browser.new_context()
    context.set_default_timeout(STEP_TIMEOUT_MS)
    tab = context.new_page()
    console: list[str] = []
    tab.on("console", lambda message: console.append(f"console.{message.type}: {message.text}"))
    tab.on("pageerror", lambda error: console.append(f"page error: {error}"))
    try:
        yield tab
        refused = [line for line in console if "Content Security Policy" in line]
        assert not refused, f"the page broke the Content-Security-Policy: {refused}"
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            path = SCREENSHOTS / (re.sub(r"[^\w.-]+", "_", request.node.name) + ".png")
            print(*console, sep="\n")
            tab.screenshot(path=str(path), full_page=True)
            print(f"screenshot: {path}")
    finally:
        context.close()
