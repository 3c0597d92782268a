"""consumers' personal data: keyed hashes of each lead's contact (duplicate checks after
erasure), when a lead was erased, retention periods on offers and verticals, the record of
erasures; the append-only logs let erasure overwrite their free text, and nothing else

Revision ID: 0022
Revises: 0021
"""

import hashlib
import hmac

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

ERASED = "[erased]"
# The append-only tables whose free text may carry a consumer's data, and those columns:
# erasure may overwrite them with text holding "[erased]" (or empty them); every other
# column, and DELETE, stay refused. The ledger (transfers) is not among them.
ERASABLE = {
    "lead_events": ("reason",),
    "lead_delivery_attempts": ("response_excerpt", "error"),
    "postback_attempts": ("response_excerpt", "error"),
    "dispute_messages": ("body",),
    "moderation_actions": ("reason",),
}


def upgrade():
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("email_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("phone_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))
        batch.create_index(batch.f("ix_leads_email_hash"), ["email_hash"], unique=False)
        batch.create_index(batch.f("ix_leads_phone_hash"), ["phone_hash"], unique=False)
        batch.create_index("ix_leads_erased_at_created_at", ["erased_at", "created_at"], unique=False)
    for table in ("offers", "verticals"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("retention_days", sa.Integer(), nullable=True))
            batch.create_check_constraint("retention_days", "retention_days IS NULL OR retention_days > 0")
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=12), nullable=False),
        sa.Column("subject_kind", sa.String(length=8), nullable=True),
        sa.Column("subject_hash", sa.String(length=64), nullable=True),
        sa.Column("actor_kind", sa.String(length=12), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=80), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("rows_erased", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("cause IN ('request', 'retention')", name=op.f("ck_erasures_cause")),
        sa.CheckConstraint(
            "subject_kind IS NULL OR subject_kind IN ('email', 'phone')",
            name=op.f("ck_erasures_subject_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_erasures_actor_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    op.create_index(op.f("ix_erasures_created_at"), "erasures", ["created_at"], unique=False)
    op.create_index(op.f("ix_erasures_subject_hash"), "erasures", ["subject_hash"], unique=False)
    _guard_append_only("erasures")
    for table, columns in ERASABLE.items():
        _let_erasure_write(table, columns)
    _hash_existing_contacts()


def downgrade():
    for table, columns in ERASABLE.items():
        _refuse_every_update(table, columns)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS refuse_change_but_erasure()")
    _drop_guard("erasures")
    op.drop_index(op.f("ix_erasures_subject_hash"), table_name="erasures")
    op.drop_index(op.f("ix_erasures_created_at"), table_name="erasures")
    op.drop_table("erasures")
    for table in ("verticals", "offers"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint("retention_days", type_="check")
            batch.drop_column("retention_days")
    with op.batch_alter_table("leads") as batch:
        batch.drop_index("ix_leads_erased_at_created_at")
        batch.drop_index(batch.f("ix_leads_phone_hash"))
        batch.drop_index(batch.f("ix_leads_email_hash"))
        batch.drop_column("erased_at")
        batch.drop_column("phone_hash")
        batch.drop_column("email_hash")


def _hash_existing_contacts() -> None:
    """The leads already here get their hashes, as exchange/privacy/hashing.py makes them at
    this revision (HMAC-SHA256 under a key derived from SECRET_KEY). Without an app (offline
    SQL) there is no key: the hashes stay empty and duplicate checks miss those leads."""
    try:
        from flask import current_app

        secret = current_app.config["SECRET_KEY"]
    except (ImportError, RuntimeError, KeyError):
        return
    key = hmac.new(secret.encode(), b"exchange consumer hashes v1", hashlib.sha256).digest()

    def digest(kind: str, value: str | None) -> str | None:
        return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest() if value else None

    bind = op.get_bind()
    leads = sa.table(
        "leads", sa.column("id"), sa.column("email_key"), sa.column("phone_key"),
        sa.column("email_hash"), sa.column("phone_hash"),
    )  # fmt: skip
    rows = bind.execute(
        sa.select(leads.c.id, leads.c.email_key, leads.c.phone_key).where(
            sa.or_(leads.c.email_key.is_not(None), leads.c.phone_key.is_not(None))
        )
    ).all()
    for lead_id, email_key, phone_key in rows:
        bind.execute(
            leads.update()
            .where(leads.c.id == lead_id)
            .values(email_hash=digest("email", email_key), phone_hash=digest("phone", phone_key))
        )


def _let_erasure_write(table: str, columns: tuple[str, ...]) -> None:
    """Replace the table's append-only guard by one that lets ``columns`` be overwritten with
    text holding "[erased]" (or emptied), and refuses any other change, and every DELETE."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION refuse_change_but_erasure() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
              column_name text;
              new_value text;
            BEGIN
              IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - TG_ARGV) = (to_jsonb(OLD) - TG_ARGV) THEN
                FOREACH column_name IN ARRAY TG_ARGV LOOP
                  new_value := to_jsonb(NEW) ->> column_name;
                  IF new_value IS DISTINCT FROM (to_jsonb(OLD) ->> column_name)
                     AND new_value IS NOT NULL AND new_value <> ''
                     AND position('{ERASED}' in new_value) = 0 THEN
                    RAISE EXCEPTION '% is append-only: % may only be erased', TG_TABLE_NAME, column_name;
                  END IF;
                END LOOP;
                RETURN NEW;
              END IF;
              RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
            END $$;
            """
        )
        arguments = ", ".join(f"'{column}'" for column in columns)
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION refuse_change_but_erasure({arguments})"
        )
        return
    others = [c["name"] for c in sa.inspect(op.get_bind()).get_columns(table) if c["name"] not in columns]
    changed_to_other_text = " OR ".join(
        f"(NEW.{column} IS NOT OLD.{column} AND NEW.{column} IS NOT NULL AND NEW.{column} <> ''"
        f" AND instr(NEW.{column}, '{ERASED}') = 0)"
        for column in columns
    )
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
    op.execute(
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OF {', '.join(others)} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
    )
    op.execute(
        f"CREATE TRIGGER {table}_erasure_only BEFORE UPDATE OF {', '.join(columns)} ON {table} "
        f"WHEN {changed_to_other_text} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: it may only be erased'); END"
    )


def _refuse_every_update(table: str, columns: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
        )
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}_erasure_only")
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
    op.execute(
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
    )


def _guard_append_only(table: str) -> None:
    """As in revisions 0009 and 0015 (on PostgreSQL with refuse_change() of 0001)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def _drop_guard(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
