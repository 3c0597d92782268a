"""``flask tasks run <id>`` and ``flask tasks requeue-stuck``: for the operators."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from exchange.db import commit
from exchange.extensions import db
from exchange.longjobs.models import LongTask

tasks_cli = AppGroup("tasks", help="Long tasks: exports and imports (docs/tasks.md).")


@tasks_cli.command("run")
@click.argument("task_id", type=int)
def run_command(task_id: int) -> None:
    """Run an unfinished task here and now (it takes over from a run that was lost)."""
    from exchange.longjobs.jobs import run_long_task

    if db.session.get(LongTask, task_id) is None:
        raise click.ClickException(f"no task {task_id}")
    run_long_task(task_id)
    long_task = db.session.get(LongTask, task_id)
    click.echo(f"task {task_id}: {long_task.state}, {long_task.done} of {long_task.total} rows")


@tasks_cli.command("requeue-stuck")
def requeue_stuck_command() -> None:
    """Queue again the unfinished tasks whose run shows no sign of life (a worker died)."""
    from exchange.longjobs.services import requeue, stuck_task_ids

    ids = stuck_task_ids()
    for task_id in ids:
        requeue(task_id)
    commit()
    click.echo(f"requeued={len(ids)}")
