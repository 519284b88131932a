from testsupport.postgres import pg_database, pg_server, pg_url  # noqa: F401
