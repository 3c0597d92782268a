"""Click redirect throughput against a bare Flask redirect, in one run.

    python bench/clicks.py [N]

Both go through Werkzeug's test client in this process, so the ratio shows
what recording a click costs over an empty redirect (today: a database
insert per click; issue 3 buffers clicks in Redis). Runs on a throwaway
SQLite database, or on ``BENCH_DATABASE_URL`` if set (its tables are
created by the migrations and must be empty).
Prints: ``click: clicks_per_s=<n> bare_redirect_per_s=<n> ratio=<r>``
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, redirect  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from exchange import create_app  # noqa: E402
from exchange.extensions import db  # noqa: E402
from tests.factories import make_join, make_offer, make_user  # noqa: E402


def best_rate(client, path: str, count: int, rounds: int = 3) -> float:
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        for n in range(count):
            response = client.get(f"{path}?sub1=s{n}")
            assert response.status_code == 302, response.status_code
        best = max(best, count / (time.perf_counter() - started))
    return best


def bare_app() -> Flask:
    app = Flask("bare")

    @app.get("/c/<token>")
    def click(token: str):
        return redirect(f"https://landing.example.com/?t={token}", code=302)

    return app


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite"
        os.environ["EXCHANGE_INSTANCE_PATH"] = folder
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None})
        with app.app_context():
            upgrade()
            offer = make_offer(make_user("advertiser"))
            token = make_join(make_user("webmaster"), offer).token
            db.session.remove()
        clicks = best_rate(app.test_client(), f"/c/{token}", count)
        bare = best_rate(bare_app().test_client(), f"/c/{token}", count)
    print(f"click: clicks_per_s={clicks:.0f} bare_redirect_per_s={bare:.0f} ratio={clicks / bare:.3f}")


if __name__ == "__main__":
    main()
