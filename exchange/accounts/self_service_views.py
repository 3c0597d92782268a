"""The pages of ``exchange.accounts.self_service``: sign up, confirm an address, forgotten
passwords, and a signed-in user's settings. On the accounts blueprint."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import available_timezones

from flask import Response, flash, redirect, render_template, request, url_for
from flask_limiter import RequestLimit
from flask_login import current_user, login_required

from exchange.accounts import self_service
from exchange.accounts.tokens import BadLink
from exchange.accounts.views import bp
from exchange.db import commit, rollback
from exchange.errors import Invalid
from exchange.rate_limits import client_address, limit

LANGUAGES = {"": "The browser's", "en": "English", "ru": "Русский"}


def _again_later(_breached: RequestLimit) -> Response:
    flash("Too many requests from your address: try again later.")
    return Response(render_template("check_mail.html", address=None), status=429)


_per_address = {"methods": ["POST"], "on_breach": _again_later}


@bp.route("/signup", methods=["GET", "POST"])
@limit("LIMIT_SIGN_UP_PER_ADDRESS", client_address, **_per_address)
def signup():
    if request.method == "GET":
        return render_template("signup.html", values={"role": request.args.get("role", "")}, errors={})
    try:
        self_service.sign_up(request.form)
        commit()
    except Invalid as refused:
        rollback()
        values = {key: value for key, value in request.form.items() if key != "password"}
        return render_template("signup.html", values=values, errors=refused.fields), 422
    return render_template("check_mail.html", address=request.form["email"].strip().lower())


@bp.get("/confirm/<token>")
def confirm_email_link(token: str):
    try:
        user = self_service.confirm_email(token)
        commit()
    except BadLink as bad:
        rollback()
        return _link_refused(bad, "accounts.confirm_again")
    pending = " A moderator approves new webmasters: until then you can sign in and look around."
    flash(f"Address confirmed: sign in.{pending if user.status == 'pending' else ''}", "notice")
    return redirect(url_for("accounts.login"), code=303)


@bp.route("/confirm", methods=["GET", "POST"])
@limit("LIMIT_MAIL_LINKS_PER_ADDRESS", client_address, **_per_address)
def confirm_again():
    """Another confirmation link, to an address that waits for one."""
    return _ask_for_link("confirm", self_service.send_confirmation_again)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limit("LIMIT_MAIL_LINKS_PER_ADDRESS", client_address, **_per_address)
def forgot_password():
    return _ask_for_link("reset", self_service.ask_for_password_reset)


def _ask_for_link(purpose: str, send: Callable[[str], None]):
    """The form asking for a link, or, posted, the link sent (if the address may have one)
    and the same answer whatever the address."""
    if request.method == "GET":
        return render_template("ask_link.html", purpose=purpose)
    email = request.form.get("email", "")
    send(email)
    commit()
    return render_template("check_mail.html", address=email.strip().lower())


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if request.method == "GET":
        return render_template("reset_password.html", token=token, errors={})
    try:
        self_service.reset_password(token, request.form.get("password", ""))
        commit()
    except BadLink as bad:
        rollback()
        return _link_refused(bad, "accounts.forgot_password")
    except Invalid as refused:
        rollback()
        return render_template("reset_password.html", token=token, errors=refused.fields), 422
    flash("Your password is set: sign in with it.", "notice")
    return redirect(url_for("accounts.login"), code=303)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def settings():
    """Names, time zone and language (``action=profile``), or the password (``password``)."""
    if request.method == "GET":
        return _settings_page()
    try:
        if request.form.get("action") == "password":
            self_service.change_password(
                current_user, request.form.get("current_password", ""), request.form.get("password", "")
            )
            commit()
            flash("Password changed: sign in with it.", "notice")  # every session ended
            return redirect(url_for("accounts.login"), code=303)
        self_service.update_profile(current_user, request.form)
        commit()
    except Invalid as refused:
        rollback()
        return _settings_page(refused.fields, request.form), 422
    flash("Settings saved.", "notice")
    return redirect(url_for("accounts.settings"), code=303)


def _link_refused(bad: BadLink, again: str):
    return render_template("link_refused.html", expired=bad.expired, again=again), 400


def _settings_page(errors: dict | None = None, form=None):
    values = {
        "name": current_user.name,
        "company_name": current_user.company_name or "",
        "time_zone": current_user.time_zone,
        "locale": current_user.locale or "",
    }
    if form is not None and form.get("action") != "password":
        values.update({key: form.get(key, "") for key in values})
    return render_template(
        "account_settings.html",
        values=values,
        errors=errors or {},
        time_zones=sorted(available_timezones()),
        languages=LANGUAGES,
    )
