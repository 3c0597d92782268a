"""Running the auctioneer: in this process until a signal, or as several processes.

An auctioneer is bound by its own CPU (its event loop and its database steps share one
interpreter), so a machine with N cores runs N of them; they share the work through their
claims (``services.claim_due``: ``FOR UPDATE SKIP LOCKED``), never the same auction at once.
``run_processes`` starts them (spawned: each builds its own app, its own connections) and
passes SIGTERM or SIGINT on to each, which finishes the auctions it is running.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal

from flask import Flask
from flask.cli import ScriptInfo

from exchange.auctions.runner import serve

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def serve_until_signalled(app: Flask) -> None:
    """Run auctions in this process until SIGTERM or SIGINT, then finish those running."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, stop.set)
        await serve(app, stop=stop)

    asyncio.run(main())


def run_processes(count: int, app_import_path: str | None) -> None:
    """``count`` auctioneer processes, until SIGTERM or SIGINT (passed on to each); one that
    dies by itself is started again. Each loads the app as the ``flask`` command did
    (``app_import_path``: its ``--app``, or None for FLASK_APP and the usual files)."""
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    processes = [_start(context, app_import_path) for _ in range(count)]
    try:
        while not stopping:
            for index, process in enumerate(processes):
                process.join(timeout=0.2)
                if not process.is_alive() and not stopping:
                    processes[index] = _start(context, app_import_path)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: it finishes the auctions it runs
        for process in processes:
            process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start(context, app_import_path: str | None) -> multiprocessing.process.BaseProcess:
    process = context.Process(target=_auctioneer, args=(app_import_path,), name="auctioneer")
    process.start()
    return process


def _auctioneer(app_import_path: str | None) -> None:
    serve_until_signalled(ScriptInfo(app_import_path=app_import_path).load_app())
