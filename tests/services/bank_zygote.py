"""The process that starts the bank test's workers (bank_worker.py).

Run as ``python -m tests.services.bank_zygote PLAN.json``: it imports the application
once, then forks a worker process on each command read from its stdin. A fresh Python
takes about 1.5 s of CPU to import the application; with a worker killed every half
second, restarts alone would eat the machine. A forked worker is still a process of its
own: its own app, session and connection to PostgreSQL (none is opened before the fork),
killed with SIGKILL by the test at any point of its work.

Commands, each answered by one line on stdout:
    spawn W            -> the new worker's pid
    respawn W PID      -> reap PID (killed by the test), start W again: "NEWPID HOW-PID-DIED"
    recover W PID      -> reap PID, start W to redo its open intent and exit: its pid
    wait PID           -> how PID exited
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import configure_mappers

from exchange import create_app
from exchange.extensions import db
from tests.services.bank_worker import Worker


def build_app(plan: dict):
    return create_app(
        {
            "EXCHANGE_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": plan["database_url"],
            "REDIS_URL": None,  # jobs run in-process, right after the commit that asked for them
            "SERVER_NAME": "exchange.test",
        }
    )


def run_worker(app, plan: dict, index: int, *, recover_only: bool = False) -> None:
    with app.app_context():
        worker = Worker(plan, index)
        worker.recover()
        while not recover_only:
            worker.step()


def fork_worker(app, plan: dict, index: int, *, recover_only: bool = False) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        log = os.open(
            Path(plan["journal_dir"]) / f"worker-{index}.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT
        )
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        run_worker(app, plan, index, recover_only=recover_only)
        code = 0
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
    finally:
        os._exit(code)


def warmed_up_app(plan: dict):
    """The app every worker inherits, its mappers configured and its connection pool
    empty: each worker opens connections of its own."""
    app = build_app(plan)
    with app.app_context():
        configure_mappers()
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        db.engine.dispose()
    return app


def reap(pid: int) -> str:
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return f"signal-{os.WTERMSIG(status)}"
    return f"exit-{os.WEXITSTATUS(status)}"


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    app = warmed_up_app(plan)
    for line in sys.stdin:
        command, *args = line.split()
        if command == "spawn":
            answer = str(fork_worker(app, plan, int(args[0])))
        elif command == "respawn":
            status = reap(int(args[1]))
            answer = f"{fork_worker(app, plan, int(args[0]))} {status}"
        elif command == "recover":
            reap(int(args[1]))
            answer = str(fork_worker(app, plan, int(args[0]), recover_only=True))
        elif command == "wait":
            answer = reap(int(args[0]))
        else:
            answer = f"unknown command {command}"
        print(answer, flush=True)


if __name__ == "__main__":
    main()
