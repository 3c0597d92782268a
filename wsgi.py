"""The WSGI entry point: ``gunicorn wsgi:app``. Served this way the app is in production
unless EXCHANGE_ENV says otherwise (secure cookies, no calls to private addresses, and it
refuses to start without its secret and services). The ``flask`` command finds the app
here too and keeps the development default: that is a developer at work."""

import os

from exchange import create_app

if os.environ.get("FLASK_RUN_FROM_CLI") == "true":  # set by the flask command
    app = create_app()
else:
    app = create_app({"EXCHANGE_ENV": os.environ.get("EXCHANGE_ENV") or "production"})
