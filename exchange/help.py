"""``/help/words``: every code a page may show, with its words and what it means
(exchange/words.py), for anyone, signed in or not."""

from __future__ import annotations

from flask import Blueprint, render_template

from exchange.words import CATALOGUE, TITLES

bp = Blueprint("help", __name__, url_prefix="/help")


@bp.get("/words")
def words():
    kinds = [(kind, title, CATALOGUE[kind]) for kind, title in TITLES.items()]
    return render_template("help_words.html", kinds=kinds)
