"""Initial control-plane schema: organizations, accounts, API keys, tiers (seeded).

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from distillguard.controlplane.tiers import default_tiers

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "dg_orgs",
        sa.Column("org_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("verification", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "dg_accounts",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("org_id", sa.String(64), sa.ForeignKey("dg_orgs.org_id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("email_domain", sa.String(255), nullable=True),
        sa.Column("signup_ip", sa.String(64), nullable=True),
        sa.Column("signup_user_agent", sa.Text(), nullable=True),
        sa.Column("payment_fingerprint", sa.String(128), nullable=True),
        sa.Column("payment_country", sa.String(2), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("verification", sa.String(16), nullable=False),
        sa.Column("program", sa.String(16), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_dg_accounts_org_id", "dg_accounts", ["org_id"])
    op.create_index("ix_dg_accounts_email_domain", "dg_accounts", ["email_domain"])
    op.create_index("ix_dg_accounts_payment_fingerprint", "dg_accounts", ["payment_fingerprint"])
    op.create_table(
        "dg_api_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column(
            "account_id", sa.String(64), sa.ForeignKey("dg_accounts.account_id"), nullable=False
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_dg_api_keys_account_id", "dg_api_keys", ["account_id"])
    tiers = op.create_table(
        "dg_tiers",
        sa.Column("tier", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("required_verification", sa.String(16), nullable=False),
        sa.Column("limits", sa.JSON(), nullable=False),
    )
    # Seeded with the default table of the release that created the database.
    op.bulk_insert(
        tiers,
        [
            {
                "tier": spec.tier,
                "name": spec.name,
                "description": spec.description,
                "required_verification": spec.required_verification,
                "limits": {scope: dict(rules) for scope, rules in spec.limits.items()},
            }
            for spec in default_tiers()
        ],
    )


def downgrade() -> None:
    op.drop_table("dg_tiers")
    op.drop_index("ix_dg_api_keys_account_id", table_name="dg_api_keys")
    op.drop_table("dg_api_keys")
    op.drop_index("ix_dg_accounts_payment_fingerprint", table_name="dg_accounts")
    op.drop_index("ix_dg_accounts_email_domain", table_name="dg_accounts")
    op.drop_index("ix_dg_accounts_org_id", table_name="dg_accounts")
    op.drop_table("dg_accounts")
    op.drop_table("dg_orgs")
