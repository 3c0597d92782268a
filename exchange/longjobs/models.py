"""A long task's row: what was asked, how far it got, and what came of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from exchange import clock
from exchange.extensions import db
from exchange.longjobs.domain import KINDS, MAX_RESULT_BYTES, QUEUED, STATES
from exchange.sql_text import sql_in as _in


class LongTask(db.Model):
    __tablename__ = "long_tasks"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(KINDS)})", name="kind"),
        CheckConstraint(f"state IN ({_in(STATES)})", name="state"),
        CheckConstraint("done >= 0 AND total >= 0 AND failed >= 0 AND failed <= done", name="counts"),
        CheckConstraint(f"result_bytes <= {MAX_RESULT_BYTES}", name="result_bytes"),
        Index("ix_long_tasks_user_id_id", "user_id", "id"),
        Index("ix_long_tasks_state_updated_at", "state", "updated_at"),
        Index("ix_long_tasks_expired_at_finished_at", "expired_at", "finished_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(24))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(8), default=QUEUED)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)  # an import's rows that were not decided
    # Each run claims the task by raising this; a run that is no longer the latest writes nothing.
    runs: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)  # [{"row", "lead_id", "message"}], bounded
    message: Mapped[str | None] = mapped_column(String(500))  # why the task failed
    source: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))  # the uploaded CSV
    result: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))  # the export's CSV
    result_bytes: Mapped[int] = mapped_column(default=0)
    result_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)  # the run's heartbeat
    # When its kept files (result, source) were deleted, TASK_RESULT_DAYS after it finished.
    expired_at: Mapped[datetime | None]
