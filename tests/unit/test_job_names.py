"""Jobs are enqueued by their dotted path (exchange/jobs.py): every path written in the code
names a job function that exists, and anything else is refused."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from exchange.jobs import enqueue_after_commit, job_function

ROOT = Path(__file__).resolve().parents[2]


def enqueued_paths() -> list[tuple[str, str]]:
    """(file, dotted path) of every ``enqueue_after_commit("...", ...)`` in the application."""
    found = []
    for package in ("exchange", "billing", "advertisers", "webmasters"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", getattr(node.func, "attr", None)) == "enqueue_after_commit"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    found.append((str(path.relative_to(ROOT)), node.args[0].value))
    return found


def test_the_code_enqueues_jobs_by_name_in_many_places():
    assert len(enqueued_paths()) >= 10


@pytest.mark.parametrize(("where", "path"), enqueued_paths())
def test_each_enqueued_path_names_a_job_in_a_jobs_module(where, path):
    func = job_function(path)

    assert path.rsplit(".", 2)[-2] == "jobs", f"{where}: jobs live in a jobs.py"
    assert callable(func) and hasattr(func, "__wrapped__"), f"{where}: {path} is not wrapped with @job"


@pytest.mark.parametrize("func", [print, "validate_lead_job"])
def test_a_job_given_as_a_function_or_a_bare_name_is_refused(func):
    with pytest.raises(TypeError, match="dotted path"):
        enqueue_after_commit(func, 1, queue="validation")
