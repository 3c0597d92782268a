"""The distributed stack as separate processes, for bench/soak.py: gunicorn (deploy/
gunicorn.conf.py), rq workers, flushers, the scheduler; each can be SIGKILLed and started
again, and their memory read from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Process:
    kind: str  # web, worker, witness, flusher, scheduler
    argv: list[str]
    popen: subprocess.Popen | None = None
    kills: int = 0
    log: Path | None = None
    extra_env: dict = field(default_factory=dict)

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


class Stack:
    def __init__(self, env: dict, logs: Path, port: int, redis_url: str) -> None:
        self.env, self.logs, self.port = env, logs, port
        python, flask = sys.executable, [sys.executable, "-m", "flask"]
        self.processes = [
            Process("web", [python, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
                    extra_env={"PORT": str(port), "WEB_WORKERS": "2", "WEB_THREADS": "4"}),
            Process("worker", [python, "-m", "exchange.worker"]),
            Process("worker", [python, "-m", "exchange.worker"]),
            # never killed: the run's memory is read on it (and on whatever else lived through)
            Process("witness", [python, "-m", "exchange.worker"]),
            Process("flusher", [*flask, "clicks", "flush", "--loop", "--name", "a", "--lease", "3"]),
            Process("flusher", [*flask, "clicks", "flush", "--loop", "--name", "b", "--lease", "3"]),
            Process("scheduler", [python, "-m", "rq.cli", "cron", "exchange.rq_cron_config",
                                  "--url", redis_url]),
        ]  # fmt: skip

    def start(self, process: Process) -> None:
        number = self.processes.index(process)
        process.log = self.logs / f"{number}-{process.kind}.log"
        with process.log.open("a") as log:
            process.popen = subprocess.Popen(
                process.argv, cwd=ROOT, env={**self.env, **process.extra_env},
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def start_all(self) -> None:
        for process in self.processes:
            if not process.alive:
                self.start(process)

    def kill(self, process: Process) -> None:
        """SIGKILL to the process and everything it started (a worker's rq scheduler)."""
        os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait(timeout=30)
        process.kills += 1

    def kill_a_web_worker(self) -> bool:
        """SIGKILL one of gunicorn's workers (its master starts another)."""
        web = self.processes[0]
        children = _children(web.popen.pid)
        if not children:
            return False
        os.kill(children[0], signal.SIGKILL)
        web.kills += 1
        return True

    def stop_all(self) -> None:
        """SIGTERM (each finishes what it holds: a flusher drains), then SIGKILL what is left."""
        for process in self.processes:
            if process.alive:
                os.killpg(process.popen.pid, signal.SIGTERM)
        for process in self.processes:
            if process.popen is None:
                continue
            try:
                process.popen.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait(timeout=30)

    def memory(self) -> dict[int, int]:
        """RSS in kB of every live process of the stack and their children, by pid."""
        pids = []
        for process in self.processes:
            if process.alive:
                pids += [process.popen.pid, *_children(process.popen.pid)]
        return {pid: rss for pid in pids if (rss := _rss_kb(pid)) is not None}


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None
