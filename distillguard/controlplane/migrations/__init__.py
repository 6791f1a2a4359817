"""Alembic migrations of the control-plane schema (run them with ``distillguard db upgrade``)."""
