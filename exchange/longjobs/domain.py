"""The rules of long tasks: kinds, states, limits, and reading a decisions CSV. Pure."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

LEADS_EXPORT, REPORT_EXPORT, DECISIONS_IMPORT = "leads_export", "report_export", "decisions_import"
KINDS = (LEADS_EXPORT, REPORT_EXPORT, DECISIONS_IMPORT)
EXPORTS = (LEADS_EXPORT, REPORT_EXPORT)
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATES = (QUEUED, RUNNING, DONE, FAILED)
UNFINISHED = (QUEUED, RUNNING)
LABELS = {LEADS_EXPORT: "Leads export", REPORT_EXPORT: "Report export", DECISIONS_IMPORT: "Decisions import"}

MAX_RESULT_BYTES = 20 * 1024 * 1024  # an export's CSV, kept in the database
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 10_000
MAX_ERRORS_KEPT = 1_000  # per-row errors kept on an import (all are counted)
MAX_UNFINISHED_PER_USER = 5
# Runs of one task, counting those a timeout, an error or a lost worker stopped; a task whose
# last allowed run was stopped fails (it would most likely be stopped again).
MAX_RUNS = 5
MAX_REASON = 500
MAX_LEAD_ID = 2**62

DECISIONS = {"approve": "approve", "approved": "approve", "reject": "reject", "rejected": "reject"}
REQUIRED_COLUMNS = ("lead_id", "decision")
OPTIONAL_COLUMNS = ("reason",)


TOO_LARGE = f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; split it."


class ImportRefused(ValueError):
    """The whole file is refused before any task: its size, encoding or header."""


@dataclass(frozen=True)
class DecisionRow:
    """One data row: ``number`` counts from 2 (the header is row 1), as a spreadsheet shows it.
    ``problem`` is set when the row itself cannot be used (it becomes that row's error)."""

    number: int
    lead_id: int | None
    decision: str | None
    reason: str | None
    problem: str | None = None


def percent(done: int, total: int) -> int:
    if total <= 0:
        return 0
    return min(100, done * 100 // total)


def read_decisions(data: bytes) -> list[DecisionRow]:
    """The rows of a decisions CSV (``lead_id,decision[,reason]``), or ImportRefused."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRefused(TOO_LARGE)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused("The file is not UTF-8 text: save it as CSV UTF-8.") from None
    if "\x00" in text:
        raise ImportRefused("The file is not a CSV (it holds NUL bytes).")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise ImportRefused(f"The header row is not CSV: {error}.") from None
    positions = _columns(header)
    rows: list[DecisionRow] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise ImportRefused(f"At most {MAX_IMPORT_ROWS:,} rows per file; split it.")
            rows.append(_row(reader.line_num, cells, positions))
    except csv.Error as error:
        raise ImportRefused(f"Line {reader.line_num} is not CSV: {error}.") from None
    if not rows:
        raise ImportRefused("The file has a header but no rows.")
    return rows


def _columns(header: list[str] | None) -> dict[str, int]:
    if not header or not any(cell.strip() for cell in header):
        raise ImportRefused("The file is empty: the first row must name the columns lead_id,decision,reason.")
    names = [cell.strip().lower() for cell in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise ImportRefused(
            f"The header lacks {', '.join(missing)}: the first row must name the columns "
            "lead_id,decision and optionally reason."
        )
    twice = sorted({name for name in names if name and names.count(name) > 1})
    if twice:
        raise ImportRefused(f"The header names {', '.join(twice)} more than once.")
    return {name: names.index(name) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if name in names}


def _row(number: int, cells: list[str], positions: dict[str, int]) -> DecisionRow:
    def cell(name: str) -> str:
        index = positions.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    raw_id, raw_decision, reason = cell("lead_id"), cell("decision").lower(), cell("reason") or None
    lead_id = int(raw_id) if raw_id.isdigit() and 0 < int(raw_id) <= MAX_LEAD_ID else None
    decision = DECISIONS.get(raw_decision)
    problem = None
    if lead_id is None:
        problem = f"lead_id {raw_id!r} is not a lead id (a whole number)."
    elif decision is None:
        problem = f"decision {raw_decision!r} is not approve or reject."
    elif reason is not None and len(reason) > MAX_REASON:
        problem = f"reason is longer than {MAX_REASON} characters."
    return DecisionRow(number, lead_id, decision, reason, problem)
