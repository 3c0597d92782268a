"""What the tasks API takes and answers."""

from __future__ import annotations

from marshmallow import Schema, validate
from marshmallow import fields as ma

from exchange.longjobs.domain import DONE, EXPORTS, percent
from exchange.schema_fields import UtcDateTime


class ExportRequestSchema(Schema):
    kind = ma.String(required=True, validate=validate.OneOf(EXPORTS))
    params = ma.Dict(
        load_default=dict,
        metadata={
            "description": "leads_export: the filters of GET /leads (status, offer_id, since, until, "
            "after_id, order); report_export: the query of GET /reports (group_by, since, until, ...)."
        },
    )


class RowErrorSchema(Schema):
    row = ma.Integer(metadata={"description": "The row's line in the file (the header is line 1)."})
    lead_id = ma.Integer(allow_none=True)
    code = ma.String()
    message = ma.String()


class TaskSchema(Schema):
    id = ma.Integer()
    kind = ma.String(metadata={"description": "leads_export, report_export or decisions_import"})
    state = ma.String(metadata={"description": "queued, running, done or failed"})
    params = ma.Dict()
    total = ma.Integer(metadata={"description": "Rows to do (known once the task runs)."})
    done = ma.Integer()
    failed = ma.Integer(metadata={"description": "An import's rows that were not decided."})
    percent = ma.Method("_percent")
    message = ma.String(
        allow_none=True,
        metadata={
            "description": "Why the task failed; why a queued task waits to go on (its last run was "
            "stopped); or that an export's file expired."
        },
    )
    errors = ma.List(ma.Nested(RowErrorSchema), metadata={"description": "An import's first 1,000 refusals."})
    result_name = ma.String(allow_none=True)
    result_bytes = ma.Integer()
    created_at = UtcDateTime()
    started_at = UtcDateTime(allow_none=True)
    finished_at = UtcDateTime(allow_none=True)
    expired_at = UtcDateTime(
        allow_none=True,
        metadata={
            "description": "When the task's file was deleted (TASK_RESULT_DAYS after it finished, 7 by "
            "default): an expired export's download answers 410; start the export again."
        },
    )

    def _percent(self, task) -> int:
        return 100 if task.state == DONE else percent(task.done, task.total)
