"""Persistence: models, engine and session factory, migrations."""
