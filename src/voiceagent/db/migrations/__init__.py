"""Alembic migrations: the schema's history. `voiceagent.db.migrate` runs them."""
