"""Web sign-in and the landing redirect to each role's page."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_limiter import RequestLimit
from flask_login import current_user, login_required, login_user, logout_user

from exchange.accounts.services import authenticate_password, end_sessions, session_token_of
from exchange.db import commit
from exchange.rate_limits import client_address, limit, longest_wait

bp = Blueprint("accounts", __name__)

PORTALS = {
    "advertiser": "advertiser_portal.home",
    "webmaster": "webmaster_portal.home",
    "moderator": "moderator_portal.home",
    "admin": "staff_portal.admin",
}


def role_required(*roles: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for(PORTALS[current_user.role]))
    return redirect(url_for("accounts.login"))


def _signing_in_account() -> str:
    return "account:" + request.form.get("email", "").strip().lower()


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _sign_in_again_later(_breached: RequestLimit) -> Response:
    """The sign-in page again, saying for how long (429 and ``Retry-After`` are added)."""
    # to the nearest minute: a window that ends in 60.4 s (ceiled to 61) is "1 minute", as
    # Retry-After says a moment later, not "2 minutes"
    minutes = max(1, round((longest_wait() or 60) / 60))
    flash(f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes > 1 else ''}.")
    return Response(render_template("login.html"), status=429)


# Failed sign-ins only, per account and per address, in growing windows (config
# LIMIT_SIGN_IN_*): when one is full, even the right password waits for it.
_sign_in = {"methods": ["POST"], "deduct_when": _failed, "on_breach": _sign_in_again_later}


@bp.route("/login", methods=["GET", "POST"])
@limit("LIMIT_SIGN_IN_PER_ACCOUNT", _signing_in_account, **_sign_in)
@limit("LIMIT_SIGN_IN_PER_ADDRESS", client_address, **_sign_in)
def login():
    if request.method == "POST":
        user = authenticate_password(request.form.get("email", ""), request.form.get("password", ""))
        if user is not None and user.email_confirmed_at is None:
            flash(f"Confirm your address first: open the link we mailed to {user.email}.")
            return render_template("login.html", unconfirmed=True), 403
        if user is not None:
            session_token_of(user)
            commit()
            login_user(user)
            return redirect(url_for(PORTALS[user.role]))
        flash("Wrong email or password.")
        return render_template("login.html"), 401
    return render_template("login.html")


@bp.post("/logout")
def logout():
    """Signing out ends every session of the user, on every device."""
    if current_user.is_authenticated:
        end_sessions(current_user.id)
        commit()
    logout_user()
    return redirect(url_for("accounts.login"))
