"""The admin's failed-jobs page and ``flask jobs requeue-failed`` when jobs run
in-process (no REDIS_URL). With Redis: tests/services/test_failed_jobs.py."""

from __future__ import annotations

from tests.api.test_web_portal import login, request
from tests.factories import make_user


def test_the_admin_page_links_to_the_failed_jobs(app, client, ctx):
    login(app, client, make_user("admin").email)

    page = request(app, client, "GET", "/admin/")

    assert page.status_code == 200
    assert 'href="/admin/jobs"' in page.get_data(as_text=True)


def test_without_redis_the_failed_jobs_page_says_jobs_run_in_process(app, client, ctx):
    login(app, client, make_user("admin").email)

    page = request(app, client, "GET", "/admin/jobs")

    assert page.status_code == 200
    assert "REDIS_URL is not set: jobs run in-process" in page.get_data(as_text=True)


def test_only_admins_see_the_failed_jobs(app, client, ctx):
    assert request(app, client, "GET", "/admin/jobs").status_code == 302  # signed out: to the login page
    for role in ("moderator", "advertiser", "webmaster"):
        login(app, client, make_user(role).email)
        assert request(app, client, "GET", "/admin/jobs").status_code == 403, role
        request(app, client, "POST", "/logout")


def test_requeue_failed_without_redis_refuses_and_says_why(app):
    result = app.test_cli_runner().invoke(args=["jobs", "requeue-failed"])

    assert result.exit_code == 1
    assert "REDIS_URL is not set" in result.output


def test_requeue_failed_knows_only_the_five_queues(app):
    result = app.test_cli_runner().invoke(args=["jobs", "requeue-failed", "--queue", "emails"])

    assert result.exit_code == 2
    for name in ("validation", "delivery", "postbacks", "billing", "periodic"):
        assert name in result.output
