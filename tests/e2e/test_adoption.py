"""Alembic setups as teams already have them: the `appproxy` component is shaped like Backend.AI's
real one (package-resource `script_location`, an asyncpg URL, an async env.py that reads no
environment variable and runs every revision in one transaction), and every goal works on it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from e2e.conftest import COMPONENTS, snapshot

APPPROXY = "src/ai/backend/appproxy::"
APPPROXY_DIR = COMPONENTS["appproxy"][0]
APPPROXY_TABLE = "alembic_version_appproxy"
ENV_PY = f"{APPPROXY_DIR}/env.py"


def run(repo, *args, db=None, url=None, env=None):
    full_env = dict(env or {})
    if db is not None or url is not None:
        full_env["APPPROXY_DB_URL"] = url or db.url
    return repo.run(*args, env=full_env)


def assert_error(result, title: str):
    assert result.returncode != 0, result
    assert f"❌ Error: {title}" in result.stderr, result
    assert "Recommended actions:" in result.stderr, result
    assert "Traceback" not in result.output, result
    assert "bug in pants-db-migrate" not in result.output, result


def with_driver(url: str, driver: str) -> str:
    scheme = "postgresql" if not driver else f"postgresql+{driver}"
    return re.sub(r"^postgresql(\+\w+)?://", scheme + "://", url)


# -- every goal on the real-world shape, with a URL variable ---------------------------------


def test_every_goal_on_the_async_component_with_a_url_variable(repo, new_database, histories):
    db = new_database()
    ordered = histories["appproxy"].ordered()
    url = with_driver(db.url, "asyncpg")

    status = run(repo, "db-status", APPPROXY, url=url)
    assert status.returncode == 0, status
    assert "No revision" in status.stdout

    dry = run(repo, "db-migrate", "--dry-run", APPPROXY, url=url)
    assert dry.returncode == 0, dry
    assert f"Would apply {len(ordered)} revisions" in dry.stdout
    assert "one transaction for the whole run" in dry.stdout, dry
    assert db.versions(APPPROXY_TABLE) == ()

    one = run(repo, "db-migrate", "--target=+1", APPPROXY, url=url)
    assert one.returncode == 0, one
    assert db.versions(APPPROXY_TABLE) == (ordered[0],)

    head = run(repo, "db-migrate", APPPROXY, url=url)
    assert head.returncode == 0, head
    for revision in ordered[1:]:
        assert re.search(rf"✓ {revision} ", head.stdout), revision
    assert db.versions(APPPROXY_TABLE) == (ordered[-1],)
    assert {"circuits", "workers", "endpoints"} <= db.tables()

    down = run(repo, "db-migrate", "--direction=downgrade", "--target=-1", APPPROXY, url=url)
    assert down.returncode == 0, down
    assert db.versions(APPPROXY_TABLE) == (ordered[-2],)

    sql = run(repo, "db-migrate", "--sql", f"--target={ordered[-2]}:head", APPPROXY, url=url)
    assert sql.returncode == 0, sql
    assert f"Running upgrade {ordered[-2]} -> {ordered[-1]}" in sql.stdout
    assert db.versions(APPPROXY_TABLE) == (ordered[-2],)

    base = run(repo, "db-migrate", "--direction=downgrade", "--target=base", APPPROXY, url=url)
    assert base.returncode == 0, base
    assert db.versions(APPPROXY_TABLE) == ()
    assert not {"circuits", "workers", "endpoints"} & db.tables()


def test_the_url_variable_wins_over_the_ini_for_an_env_py_that_reads_none(repo, new_database):
    """appproxy's env.py never reads APPPROXY_DB_URL: the handed connection is what makes it win."""
    db = new_database()
    result = run(repo, "db-migrate", APPPROXY, db=db)
    assert result.returncode == 0, result
    assert db.versions(APPPROXY_TABLE)
    # The ini's development server was never started for it.
    assert "starting the development PostgreSQL" not in result.output


def test_async_component_on_the_development_server(private_repo):
    """No URL variable: the ini's asyncpg URL, the dev server started and the database created."""
    first = private_repo.run("db-migrate", APPPROXY)
    assert first.returncode == 0, first
    assert "creating database 'appproxy'" in first.stdout
    status = private_repo.run("db-status", APPPROXY)
    assert status.returncode == 0, status
    assert "State: ✅ Up-to-date" in status.stdout
    assert "postgresql+asyncpg://postgres:***@127.0.0.1:" in status.stdout
    down = private_repo.run("db-migrate", "--direction=downgrade", "--target=-1", APPPROXY)
    assert down.returncode == 0, down
    assert "Backup: " in down.stdout


@pytest.mark.parametrize("driver", ["", "psycopg", "psycopg2", "asyncpg", "pg8000"])
def test_every_postgresql_driver_url_reaches_the_server(repo, new_database, histories, driver):
    """The runner's own connection, Alembic's and pg_dump's all reach the server the URL names,
    with the URL's libpq parameters (here `options` puts the tables in a schema of their own)."""
    db = new_database()
    db.query("CREATE SCHEMA proxy")
    url = with_driver(db.url, driver) + "?options=-csearch_path%3Dproxy&application_name=mine"
    up = run(repo, "db-migrate", APPPROXY, url=url)
    assert up.returncode == 0, up
    in_proxy = {r[0] for r in db.query("SELECT tablename FROM pg_tables WHERE schemaname='proxy'")}
    assert {"circuits", "workers", APPPROXY_TABLE} <= in_proxy, in_proxy
    assert not {"circuits", "workers"} & db.tables()

    down = run(repo, "db-migrate", "--direction=downgrade", "--target=-1", APPPROXY, url=url)
    assert down.returncode == 0, down
    (backup,) = re.findall(r"Backup: (\S+\.dump)", down.stdout)
    listing = Path(backup)
    assert listing.exists() and listing.stat().st_size > 0
    ordered = histories["appproxy"].ordered()
    assert db.query(f"SELECT version_num FROM proxy.{APPPROXY_TABLE}") == [(ordered[-2],)]


def test_sslmode_in_the_url_is_honoured_not_dropped(repo, new_database):
    """The throwaway server has no SSL: `sslmode=require` must fail to connect, clearly."""
    db = new_database()
    before = snapshot(db, APPPROXY_TABLE)
    result = run(repo, "db-migrate", APPPROXY, url=with_driver(db.url, "asyncpg") + "?ssl=require")
    assert_error(result, "Cannot connect to database")
    assert "SSL" in result.stderr
    assert snapshot(db, APPPROXY_TABLE) == before


# -- where the scripts are ------------------------------------------------------------------


def test_relative_script_location_resolves_against_the_build_root(private_repo, new_database):
    """An ini in a sub-folder whose plain relative `script_location` is relative to the working
    directory (the build root), as Alembic reads it, not to the ini's folder."""
    ini = private_repo.read("alembic-accountmgr.ini")
    private_repo.write(
        "configs/alembic-accountmgr.ini",
        re.sub(
            r"script_location = .*",
            "script_location = src/ai/backend/accountmgr/models/alembic",
            ini,
        ).replace("prepend_sys_path = %(here)s/src", "prepend_sys_path = src"),
    )
    build = f"{COMPONENTS['accountmgr'][0]}/BUILD"
    private_repo.write(
        build,
        private_repo.read(build).replace(
            'alembic_config="alembic-accountmgr.ini"',
            'alembic_config="configs/alembic-accountmgr.ini"',
        ),
    )
    db = new_database()
    result = private_repo.run(
        "db-migrate", "src/ai/backend/accountmgr::", env={"ACCOUNTMGR_DB_URL": db.url}
    )
    assert result.returncode == 0, result
    assert db.versions("alembic_version_accountmgr")


def test_a_package_that_does_not_exist_is_named(private_repo):
    ini = private_repo.read("alembic-appproxy.ini")
    private_repo.write(
        "alembic-appproxy.ini",
        ini.replace("ai.backend.appproxy.models:alembic", "ai.backend.appprox.models:alembic"),
    )
    for goal in ("db-status", "db-migrate", "db-verify"):
        result = private_repo.run(goal, APPPROXY)
        assert_error(result, "Alembic config names a missing package")
        assert "alembic-appproxy.ini" in result.stderr
        assert "ai.backend.appprox.models" in result.stderr
        assert "src/ai/backend/appprox/models/alembic" in result.stderr  # where it looked


def test_tailor_proposes_a_target_for_a_package_resource_config(private_repo):
    build = f"{APPPROXY_DIR}/BUILD"
    text = private_repo.read(build)
    private_repo.write(build, text[: text.index("# The appproxy database component")])
    result = private_repo.run("tailor", "--check", "::")
    assert result.returncode != 0, result
    assert "alembic_migrations" in result.output and APPPROXY_DIR in result.output, result
    fixed = private_repo.run("tailor", "::")
    assert fixed.returncode == 0, fixed
    written = private_repo.read(build)
    assert 'component="appproxy"' in written, written
    assert 'alembic_config="alembic-appproxy.ini"' in written, written


# -- env.py shapes ---------------------------------------------------------------------------


def test_an_env_py_that_ignores_the_handed_connection_is_refused(private_repo, new_database):
    """An env.py that always builds its own engine from the ini would migrate the ini's database
    although APPPROXY_DB_URL names another one: refused before anything runs."""
    ours, theirs = new_database(), new_database()
    ini = private_repo.read("alembic-appproxy.ini")
    private_repo.write(
        "alembic-appproxy.ini",
        re.sub(
            r"sqlalchemy.url = .*", "sqlalchemy.url = " + with_driver(theirs.url, "asyncpg"), ini
        ),
    )
    env_py = private_repo.read(ENV_PY)
    private_repo.write(
        ENV_PY,
        env_py.replace(
            'connectable = config.attributes.get("connection", None)', "connectable = None"
        ),
    )
    before = snapshot(ours, APPPROXY_TABLE), snapshot(theirs, APPPROXY_TABLE)
    result = run(private_repo, "db-migrate", APPPROXY, db=ours)
    assert_error(result, "env.py ignores the connection it is handed")
    assert ENV_PY in result.stderr
    assert (snapshot(ours, APPPROXY_TABLE), snapshot(theirs, APPPROXY_TABLE)) == before


def test_single_transaction_failure_rolls_the_whole_run_back(private_repo, new_database, histories):
    """appproxy's env.py runs every revision in one transaction: when the third fails, the first
    two are rolled back with it, and the report says so (and checks it)."""
    db = new_database()
    ordered = histories["appproxy"].ordered()
    third = ordered[2]
    path = next((private_repo.root / APPPROXY_DIR / "versions").glob(f"{third}_*.py"))
    text = path.read_text()
    path.write_text(
        text.replace(
            "def upgrade() -> None:\n",
            "def upgrade() -> None:\n    op.execute('SELECT * FROM no_such_table')\n",
            1,
        )
    )
    result = run(private_repo, "db-migrate", APPPROXY, db=db)
    assert result.returncode != 0, result
    assert "Traceback" not in result.output
    assert third in result.stderr and "no_such_table" in result.stderr
    assert "rolled back" in result.output and "still at base" in result.output, result
    assert "kept" not in result.output.split("❌", 1)[-1]
    assert db.versions(APPPROXY_TABLE) == ()
    assert not {"circuits", "workers"} & db.tables()


@pytest.mark.parametrize(
    "relpath, anchor, line",
    [
        pytest.param(
            ENV_PY, "from alembic import context\n", "import no_such_module\n", id="env.py"
        ),
        pytest.param(
            "src/ai/backend/appproxy/models/circuit.py",
            "import sqlalchemy as sa\n",
            "from ai.backend.common.schema import no_such_name\n",
            id="model",
        ),
    ],
)
def test_an_import_error_in_user_code_is_reported_as_theirs(
    private_repo, new_database, relpath, anchor, line
):
    db = new_database()
    path = private_repo.root / relpath
    text = path.read_text()
    assert anchor in text
    path.write_text(text.replace(anchor, anchor + line, 1))
    number = path.read_text().splitlines().index(line.rstrip("\n")) + 1
    before = snapshot(db, APPPROXY_TABLE)
    result = run(private_repo, "db-migrate", APPPROXY, db=db)
    assert_error(result, "")
    assert f"{relpath}, line {number}" in result.stderr, result
    assert "ImportError" in result.stderr or "ModuleNotFoundError" in result.stderr
    assert (
        f"pants db-migrate --dry-run {APPPROXY}" in result.stderr
        or "pants db-migrate" in result.stderr
    )
    assert snapshot(db, APPPROXY_TABLE) == before


# -- other goals on the real-world shape -----------------------------------------------------


def test_create_autogenerate_and_verify_on_the_async_component(private_repo, new_database):
    db = new_database()
    models = "src/ai/backend/appproxy/models/worker.py"
    text = private_repo.read(models)
    assert 'sa.Column("hostname"' in text
    private_repo.write(
        models,
        text.replace(
            'sa.Column("hostname"',
            'sa.Column("nickname", sa.String(64), nullable=True),\n    sa.Column("hostname"',
            1,
        ),
    )
    created = run(
        private_repo,
        "db-create-migration",
        "--autogenerate",
        "--message=Add worker nickname",
        APPPROXY,
        db=db,
    )
    assert created.returncode == 0, created
    assert "workers.nickname" in created.stdout, created
    (new_file,) = (private_repo.root / APPPROXY_DIR / "versions").glob("*_add_worker_nickname.py")
    assert "op.add_column" in new_file.read_text()
    verify = private_repo.run("db-verify", APPPROXY)
    assert verify.returncode == 0, verify
    assert "✅ Verification successful" in verify.output


# -- release pins in Backend.AI's JSON format ------------------------------------------------


def test_json_release_pins_resolve_and_show_in_status(repo, new_database, histories):
    db = new_database()
    history_dir = repo.root / APPPROXY_DIR / "revision_history"
    pins = sorted(history_dir.glob("*.json"))
    assert pins, "appproxy keeps revision_history/*.json"
    name = pins[0].stem
    pinned = next(
        r["revision"] for r in json.loads(pins[0].read_text())["revisions"] if r.get("is_head")
    )
    up = run(repo, "db-migrate", f"--target=release:{name}", APPPROXY, db=db)
    assert up.returncode == 0, up
    assert db.versions(APPPROXY_TABLE) == (pinned,)
    status = run(repo, "db-status", APPPROXY, db=db)
    assert f"the database matches release {name}" in status.stdout, status
    assert pinned in histories["appproxy"].ordered()


@pytest.mark.parametrize(
    "content, why",
    [
        pytest.param("{not json", "not valid JSON", id="malformed"),
        pytest.param(
            json.dumps({"revisions": [{"revision": "a3388591ea72", "is_head": False}]}),
            "no entry with is_head",
            id="no-head",
        ),
        pytest.param(
            json.dumps(
                {
                    "revisions": [
                        {"revision": "a3388591ea72", "is_head": True},
                        {"revision": "a5999fa2157c", "is_head": True},
                    ]
                }
            ),
            "2 entries with is_head",
            id="two-heads",
        ),
        pytest.param(
            json.dumps({"revisions": [{"revision": "ffffffffffff", "is_head": True}]}),
            "ffffffffffff",
            id="unknown-revision",
        ),
    ],
)
def test_bad_json_release_pins_name_the_file(private_repo, content, why):
    private_repo.write(f"{APPPROXY_DIR}/revision_history/99.99.0.json", content)
    result = private_repo.run("db-migrate", "--target=release:99.99.0", APPPROXY)
    assert_error(result, "Invalid release pins")
    assert f"{APPPROXY_DIR}/revision_history/99.99.0.json" in result.stderr
    assert why in result.stderr, result


# -- the seed's default component ------------------------------------------------------------


def test_no_spec_migrates_the_default_component_and_says_so(repo, new_database, histories):
    db = new_database()
    result = repo.run("db-migrate", env={"MANAGER_DB_URL": db.url})
    assert result.returncode == 0, result
    assert "[db-migrations].default_specs" in result.output
    assert "src/ai/backend/manager::" in result.output
    assert db.versions("alembic_version") == (histories["manager"].head,)
