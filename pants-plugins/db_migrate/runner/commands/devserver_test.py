from pathlib import Path

from db_migrate.runner.commands.devserver import dev_server_url
from db_migrate.runner.postgres.dev_server import DevServerSettings

SETTINGS = DevServerSettings(data_dir=Path("/repo/.dev-postgres"), port=20111)


def test_an_ini_aimed_at_the_development_server_is_used_as_it_is():
    url = dev_server_url(SETTINGS, "postgresql+psycopg://postgres:devpass@127.0.0.1:20111/backend")
    assert (url.host, url.port, url.database, url.password) == (
        "127.0.0.1",
        20111,
        "backend",
        "devpass",
    )


def test_an_ini_aimed_elsewhere_still_names_the_development_servers_address():
    """A second repo's test: its component migrates a server of its own, and db-dev-server
    --action=start must check and start the development port, not that server's."""
    url = dev_server_url(SETTINGS, "postgresql+psycopg://billing:s%40cret@10.0.0.5:5432/billing")
    assert (url.host, url.port, url.user, url.password) == (
        "127.0.0.1",
        20111,
        "billing",
        "s@cret",
    )


def test_no_url_in_the_ini_means_the_default_superuser():
    url = dev_server_url(SETTINGS, "")
    assert (url.host, url.port, url.user, url.password) == ("127.0.0.1", 20111, "postgres", None)
