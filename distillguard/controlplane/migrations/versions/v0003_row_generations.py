"""Per-row generations, so the gateway reloads only the keys touched by a change.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = ("dg_orgs", "dg_accounts", "dg_api_keys")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table, sa.Column("generation", sa.BigInteger(), nullable=False, server_default="0")
        )
        op.create_index(f"ix_{table}_generation", table, ["generation"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_generation", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("generation")
