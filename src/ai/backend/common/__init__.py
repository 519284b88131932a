"""What the database components share: schema conventions and the body of their Alembic env.py."""
