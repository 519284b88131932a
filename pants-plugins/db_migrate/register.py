"""Pants plugin: database migrations for Alembic components as first-class goals."""


def target_types():
    return []


def rules():
    return []
