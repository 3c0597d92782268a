"""Cookie sessions, except on the click path.

A click needs no session, and opening one (building the signing serializer,
reading the cookie) is a measurable share of the click's cost, so requests
under ``/c/`` get an empty session that is never saved.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

CLICK_PATH_PREFIX = "/c/"


class SessionsExceptClicks(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(CLICK_PATH_PREFIX):
            return self.session_class()
        return super().open_session(app, request)
