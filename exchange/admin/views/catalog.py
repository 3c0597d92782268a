"""Staff's view of the catalog (/admin/catalog): its size and sell-through by vertical, and
its revenue by vertical and by the age step of each sale, with a chart of the margin by age
step, a series per vertical. The figures are ``exchange.catalog.figures``'; this module only
lays them out."""

from __future__ import annotations

from flask import render_template

from exchange import clock
from exchange.accounts.views import role_required
from exchange.admin.views.common import bp
from exchange.admin.views.exchange import STAFF
from exchange.catalog.domain import step_in_words
from exchange.catalog.figures import CatalogFigures, catalog_figures
from exchange.money import MINOR_DIGITS
from exchange.verticals.domain import Step

OFF_SCHEDULE = "off today's schedule"


@bp.get("/admin/catalog")
@role_required(*STAFF)
def catalog():
    figures = catalog_figures(clock.now())
    return render_template(
        "admin_catalog.html", figures=figures, chart=chart_of(figures), step_label=step_label
    )


def step_label(step: Step | None) -> str:
    return OFF_SCHEDULE if step is None else step_in_words(step)


def chart_of(figures: CatalogFigures) -> dict:
    """The chart's data: the age steps any vertical sold at (youngest first), and a series
    per vertical of its margin at each, in major units (for drawing only: the table has the
    exact amounts)."""
    steps = sorted(
        {row.step for row in figures.steps},
        key=lambda step: (step is None, step.after_hours if step else 0, -step.percent if step else 0),
    )
    series: dict[int, dict] = {}
    for row in figures.steps:
        vertical = row.vertical
        line = series.setdefault(
            vertical.id,
            {"label": f"{vertical.name} ({vertical.currency})", "data": [0] * len(steps)},
        )
        line["data"][steps.index(row.step)] = row.takings.margin_minor / 10 ** MINOR_DIGITS.get(
            vertical.currency, 2
        )
    return {"labels": [step_label(step) for step in steps], "series": list(series.values())}
