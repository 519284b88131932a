from db_migrate.runner.pgtesting import pg_database, pg_server, pg_url  # noqa: F401
