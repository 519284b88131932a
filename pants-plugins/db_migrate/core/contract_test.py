from __future__ import annotations

import dataclasses
import json

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)

from db_migrate.core.contract import (
    OPTIONS,
    AcceptOptions,
    BatchEntry,
    ContractError,
    CreateOptions,
    DevServerOptions,
    ExpectedSchemaOptions,
    LoadSnapshotOptions,
    MigrateOptions,
    MigrationSafetyOptions,
    RebaseOptions,
    RestoreOptions,
    RunnerBatch,
    RunnerCommand,
    RunnerPlan,
    SharedSettings,
    SnapshotOptions,
    SqlOptions,
    StatusOptions,
    SyntaxOptions,
    VerifyOptions,
    command_of,
    read_request,
)
from db_migrate.core.revision_file import Revision

# Every field of every command's options away from its default, so a field the writer or the
# reader drops (or reads as another type) shows in the round trip.
EXAMPLES = {
    RunnerCommand.MIGRATE: MigrateOptions(
        direction="downgrade",
        target="abc123",
        target_label="release:24.09",
        no_backup=True,
        lock_wait=7.5,
        dry_run=True,
        allow_changed=True,
        allow_active_sessions=True,
        user_flags=("--no-backup", "--lock-timeout=7"),
        base_ref="origin/main",
        release_pins=(("24.03", "aaa"), ("24.09", "abc123")),
        lock_retries=0,
        probe=True,
    ),
    RunnerCommand.ACCEPT: AcceptOptions(
        reason="Black reformat, no SQL change",
        dry_run=True,
        lock_wait=4.0,
        base_ref="origin/main",
        release_pins=(("24.03", "aaa"),),
    ),
    RunnerCommand.SQL: SqlOptions(
        direction="downgrade",
        target="bbb:aaa",
        target_label="head:release:24.03",
        sql_file="/repo/dist/out.sql",
        sql_append=True,
    ),
    RunnerCommand.SYNTAX: SyntaxOptions(
        paths=("versions/a.py", "versions/b.py"), archive="files.zip"
    ),
    RunnerCommand.DEVSERVER: DevServerOptions(action="reset"),
    RunnerCommand.STATUS: StatusOptions(
        history=True, release_pins=(("24.03", "aaa"),), base_ref="origin/main", drift=True
    ),
    RunnerCommand.CREATE: CreateOptions(
        message="Add user nickname", autogenerate=True, empty=True, rev_id="r_1", lock_wait=3.0
    ),
    RunnerCommand.REBASE: RebaseOptions(
        strategy="merge",
        base_ref="origin/main",
        dry_run=True,
        message="Merge",
        lock_wait=9.0,
        allow_active_sessions=True,
    ),
    RunnerCommand.RESTORE: RestoreOptions(
        backup="/repo/.db-backups/x.dump", lock_wait=5.0, allow_active_sessions=True
    ),
    RunnerCommand.MIGRATION_SAFETY: MigrationSafetyOptions(
        revision="abc",
        path="versions/abc.py",
        parents=("p1", "p2"),
        squawk="/venv/bin/squawk",
        squawk_args=("--pg-version=16",),
        exclude=("ban-drop-column",),
        timeouts_set=True,
    ),
    RunnerCommand.VERIFY: VerifyOptions(
        skip=("aaa",),
        cli_skip=("bbb",),
        min_revision="ccc",
        full_snapshots=True,
        check_every_step=True,
    ),
    RunnerCommand.EXPECTED_SCHEMA: ExpectedSchemaOptions(revisions=("aaa", "bbb")),
    RunnerCommand.SNAPSHOT: SnapshotOptions(target=("aaa", "bbb")),
    RunnerCommand.LOAD_SNAPSHOT: LoadSnapshotOptions(
        snapshot_file="__db_snapshot__.dump",
        target=("aaa",),
        target_label="release:24.09",
        source="cached locally",
        build_seconds=1.5,
        lock_wait=3.0,
        dry_run=True,
        snapshot_template=True,
    ),
}
SHARED = SharedSettings(
    output="json",
    connect_timeout=2.5,
    network_timeout=12.0,
    dev_server_port=9999,
    dev_server_dir="/tmp/dev",
    backup_dir="/repo/backups",
    pg_lock_timeout="5s",
    pg_statement_timeout="1min",
    lock_retries=2,
    script_dir="src/manager/alembic",
)


def _revisions(checksum: str = "abc") -> tuple:
    return tuple(
        Revision(
            revision=f"r{i}",
            down_revisions=(f"r{i - 1}",) if i else (),
            message=f"Step {i}",
            path=f"versions/r{i}.py",
            checksum=checksum,
            branch_labels=("core",) if i == 0 else (),
            depends_on=("r0",) if i == 2 else (),
        )
        for i in range(4)
    )


def _plan(options, revisions: tuple = (), shared: SharedSettings = SHARED) -> RunnerPlan:
    return RunnerPlan(
        command=command_of(options),
        component="manager",
        selector="src/manager:migrations",
        config="alembic.ini",
        url_env="MANAGER_DB_URL",
        buildroot="/repo",
        options=options,
        revisions=revisions or _revisions(),
        heads=("r3",),
        shared=shared,
    )


def test_every_command_has_options_and_an_example() -> None:
    assert set(OPTIONS) == set(RunnerCommand) == set(EXAMPLES)
    assert len(set(OPTIONS.values())) == len(OPTIONS)  # one class per command


@pytest.mark.parametrize("example", [*EXAMPLES.values(), SHARED], ids=lambda o: type(o).__name__)
def test_the_examples_set_every_field(example) -> None:
    defaults = type(example)()
    for f in dataclasses.fields(example):
        assert getattr(example, f.name) != getattr(defaults, f.name), f.name


@pytest.mark.parametrize("command", list(RunnerCommand), ids=lambda c: c.value)
def test_every_commands_plan_reads_back_as_written(command: RunnerCommand) -> None:
    plan = _plan(EXAMPLES[command])
    read = RunnerPlan.from_json(plan.to_json())
    assert read == plan
    assert type(read.options) is OPTIONS[command] and read.command is command
    for f in dataclasses.fields(read.options):  # tuples stay tuples, floats floats
        value, written = getattr(read.options, f.name), getattr(plan.options, f.name)
        assert isinstance(value, type(written)) and isinstance(written, type(value)), f.name


def test_a_plan_with_another_commands_options_cannot_be_built() -> None:
    with pytest.raises(ContractError, match="'migrate' carries SqlOptions, not MigrateOptions"):
        dataclasses.replace(_plan(EXAMPLES[RunnerCommand.MIGRATE]), options=SqlOptions())


def _edited(plan: RunnerPlan, edit) -> str:
    raw = json.loads(plan.to_json())
    edit(raw)
    return json.dumps(raw)


def _refused(text: str, message: str) -> None:
    with pytest.raises(ContractError) as e:
        RunnerPlan.from_json(text)
    assert message in str(e.value)


def test_options_of_another_command_are_refused_naming_the_command_and_key() -> None:
    plan = _plan(EXAMPLES[RunnerCommand.MIGRATE])
    sql = dataclasses.asdict(EXAMPLES[RunnerCommand.SQL])
    _refused(
        _edited(plan, lambda raw: raw.update(options=sql)),
        "plan for command 'migrate': options: unknown key 'sql_append'",
    )


def test_unknown_missing_and_mistyped_keys_are_refused() -> None:
    plan = _plan(EXAMPLES[RunnerCommand.STATUS])
    _refused(
        _edited(plan, lambda raw: raw["options"].update(histroy=True)),
        "plan for command 'status': options: unknown key 'histroy'",
    )
    _refused(
        _edited(plan, lambda raw: raw["options"].pop("base_ref")),
        "plan for command 'status': options: missing key 'base_ref'",
    )
    _refused(
        _edited(plan, lambda raw: raw["options"].update(history="yes")),
        "plan for command 'status': options: 'history' must be bool, not 'yes'",
    )
    _refused(
        _edited(plan, lambda raw: raw["options"].update(release_pins=[["24.03"]])),
        "'release_pins' must have 2 items",
    )
    _refused(
        _edited(plan, lambda raw: raw["shared"].pop("connect_timeout")),
        "plan for command 'status': shared: missing key 'connect_timeout'",
    )
    _refused(
        _edited(plan, lambda raw: raw["shared"].update(dev_server_port=True)),
        "'dev_server_port' must be int, not True",
    )
    _refused(_edited(plan, lambda raw: raw.update(url="postgresql://x")), "unknown key 'url'")
    _refused(_edited(plan, lambda raw: raw.pop("heads")), "the plan: missing key 'heads'")
    _refused(
        _edited(plan, lambda raw: raw.update(command="rebase-db")),
        "the plan names no runner command: 'rebase-db'",
    )
    _refused(
        _edited(plan, lambda raw: raw["revisions"][1].pop("checksum")),
        "plan for command 'status': revision: missing key 'checksum'",
    )


def test_the_revisions_written_are_always_those_of_the_plan() -> None:
    status = EXAMPLES[RunnerCommand.STATUS]
    revisions = _revisions()
    first = _plan(status, revisions).to_json()
    other = dataclasses.replace(status, history=False)
    assert _plan(other, revisions).to_json() != first  # the rest is written each time
    assert RunnerPlan.from_json(_plan(other, revisions).to_json()).options.history is False
    edited = _revisions(checksum="def")  # a new tuple (an edit): new text, never the kept one
    assert RunnerPlan.from_json(_plan(status, edited).to_json()).revisions[0].checksum == "def"
    assert RunnerPlan.from_json(_plan(status, revisions).to_json()).revisions[0].checksum == "abc"
    for i in range(20):  # more tuples than are kept
        read = RunnerPlan.from_json(_plan(status, _revisions(f"s{i}")).to_json())
        assert read.revisions[1].checksum == f"s{i}"
    assert RunnerPlan.from_json(_plan(status, revisions).to_json()).revisions == revisions


def test_an_edit_writes_the_edited_revision_and_reuses_the_others() -> None:
    status = EXAMPLES[RunnerCommand.STATUS]
    revisions = _revisions()
    _plan(status, revisions).to_json()
    edited = (
        revisions[:2]
        + (Revision("r2", ("r1",), message="Edited", path="versions/r2.py", checksum="new"),)
        + revisions[3:]
    )
    read = RunnerPlan.from_json(_plan(status, edited).to_json()).revisions
    assert read == edited and read[2].message == "Edited"


def test_a_batch_reads_back_as_its_plans_in_order() -> None:
    status = EXAMPLES[RunnerCommand.STATUS]
    plans = (_plan(status), dataclasses.replace(_plan(status), component="appproxy"))
    read = read_request(RunnerBatch(plans).to_json())
    assert isinstance(read, RunnerBatch) and read.plans == plans
    assert read_request(plans[0].to_json()) == plans[0]


def test_only_read_only_commands_run_in_a_batch() -> None:
    with pytest.raises(ContractError, match="'migrate' cannot run in a batch"):
        RunnerBatch((_plan(EXAMPLES[RunnerCommand.MIGRATE]),))
    with pytest.raises(ContractError, match="no plan"):
        RunnerBatch(())


def test_batch_entries_read_back_and_refuse_unknown_keys() -> None:
    entries = (BatchEntry(0, "out\n", "", {"state": "read"}), BatchEntry(1, "", "❌ x\n", {}))
    assert BatchEntry.list_from_json(BatchEntry.list_to_json(entries)) == entries
    with pytest.raises(ContractError, match="unknown key 'extra'"):
        BatchEntry.list_from_json(
            '{"batch": [{"exit_code": 0, "stdout": "", "stderr": "",'
            ' "outcome": {}, "extra": 1}]}'
        )
