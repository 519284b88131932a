"""The request Pants hands the runner: a JSON file of plain, non-secret, typed facts.

Pants writes it (`RunnerPlan.to_json`) and the runner reads it (`RunnerPlan.from_json`); both
sides live in this one pure module so they cannot drift, and reading refuses anything the types
do not say (another command's options, an unknown key, a missing one) with a message naming the
command and the key. Each runner command has one options class (`OPTIONS`); what every command
shares is `SharedSettings`. Secrets never go here: the database URL reaches the runner only
through its environment.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from enum import Enum
from pathlib import PurePath
from typing import Any, Dict, Generic, Optional, Tuple, Type, TypeVar, Union

from db_migrate.core.revision_file import Revision

# The shared branch as git names it (`--base-ref` of db-migrate, db-status and db-rebase): revision
# files on it are released.
DEFAULT_BASE_REF = "main"
# How long db-migrate (and what runs it: create, rebase, restore) waits for the migration lock.
DEFAULT_LOCK_WAIT = 60
# How many times db-migrate reruns a revision that timed out waiting for a table lock (the
# `alembic_migrations` field `lock_retries`' default).
DEFAULT_LOCK_RETRIES = 5
# The file a snapshot process writes (`pg_dump --format=custom`), in its sandbox and in the one of
# the runner that loads it; its table of contents (`pg_restore --list`) travels beside it, so a
# load need not list it again.
SNAPSHOT_FILE = "__db_snapshot__.dump"


def toc_file(snapshot_file: str) -> str:
    """Where a snapshot's table of contents is written: beside it, `.list` for `.dump`."""
    return str(PurePath(snapshot_file).with_suffix(".list"))


SNAPSHOT_TOC_FILE = toc_file(SNAPSHOT_FILE)


class RunnerCommand(Enum):
    """What the runner is asked to do: one module of `runner/commands/` each."""

    MIGRATE = "migrate"
    ACCEPT = "accept"
    SQL = "sql"
    SYNTAX = "syntax"
    DEVSERVER = "devserver"
    STATUS = "status"
    CREATE = "create"
    REBASE = "rebase"
    RESTORE = "restore"
    MIGRATION_SAFETY = "migration-safety"
    VERIFY = "verify"
    EXPECTED_SCHEMA = "expected-schema"
    SNAPSHOT = "snapshot"
    LOAD_SNAPSHOT = "load-snapshot"


class ContractError(ValueError):
    """A plan that does not say what its command reads: the plugin and the runner disagree."""


@dataclass(frozen=True)
class SharedSettings:
    """What every command may read, from `[db-migrations]` and the component's target.

    Cached processes (verify, the lint checks) keep the defaults: no host path in a cache key.
    """

    output: str = (
        "text"  # text | json: the goal prints the JSON report, the runner's text goes to stderr
    )
    connect_timeout: float = 5.0
    # Seconds a database may stay silent before a run gives up (`[db-migrations].network_timeout`;
    # 0: not watched, no keepalives).
    network_timeout: float = 30.0
    dev_server_port: int = 8101
    dev_server_dir: str = ".dev-postgres"  # relative to the build root, or absolute
    backup_dir: str = ""  # absolute; empty: <build root>/.db-backups
    pg_lock_timeout: str = ""  # PostgreSQL durations for migration statements ("" or "0": none)
    pg_statement_timeout: str = ""
    lock_retries: int = DEFAULT_LOCK_RETRIES  # the target's `lock_retries`
    script_dir: str = ""  # the ini's script_location, relative to the build root


@dataclass(frozen=True)
class MigrateOptions:
    direction: str = "upgrade"  # upgrade | downgrade
    target: str = "head"  # resolved (a release pin is its revision)
    target_label: str = "head"  # as the user wrote it
    no_backup: bool = False
    lock_wait: float = DEFAULT_LOCK_WAIT
    dry_run: bool = False
    allow_changed: bool = False
    allow_active_sessions: bool = False
    user_flags: Tuple[str, ...] = ()  # the user's other flags, for the commands we suggest
    base_ref: str = DEFAULT_BASE_REF
    release_pins: Tuple[Tuple[str, str], ...] = ()  # (release, revision), oldest first
    lock_retries: Optional[int] = None  # --lock-retries; None: the target's (`SharedSettings`)
    # Run by the lean runner first: answer a plain no-op (at the target, nothing changed), else
    # change and print nothing and finish as `NEEDS_ENVIRONMENT` for the component's own runner.
    probe: bool = False


# A probe's outcome status when the run has work: the goal runs it in the component's environment.
NEEDS_ENVIRONMENT = "needs-environment"


@dataclass(frozen=True)
class AcceptOptions:
    """`db-migrate --accept-changed`: record the changed released revisions as reviewed."""

    reason: str = ""
    dry_run: bool = False
    lock_wait: float = DEFAULT_LOCK_WAIT
    base_ref: str = DEFAULT_BASE_REF
    release_pins: Tuple[Tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SqlOptions:
    direction: str = "upgrade"
    target: str = "head"  # `FROM:TO` or one end, resolved
    target_label: str = "head"
    sql_file: Optional[str] = None  # absolute; None: stdout
    sql_append: bool = False  # a later component of the same run appends to the file


@dataclass(frozen=True)
class SyntaxOptions:
    paths: Tuple[str, ...] = ()
    archive: str = ""  # the files themselves, in one zip (`core/source_archive.py`)


@dataclass(frozen=True)
class DevServerOptions:
    action: str = "status"  # status | start | stop | reset


@dataclass(frozen=True)
class StatusOptions:
    history: bool = False
    release_pins: Tuple[Tuple[str, str], ...] = ()
    base_ref: str = DEFAULT_BASE_REF
    # `--drift`: also read the live catalog (read-only) and the other version tables there.
    drift: bool = False


@dataclass(frozen=True)
class CreateOptions:
    message: str = ""
    autogenerate: bool = False
    empty: bool = False
    rev_id: Optional[str] = None
    lock_wait: float = DEFAULT_LOCK_WAIT  # autogenerate first brings the database to head


@dataclass(frozen=True)
class RebaseOptions:
    strategy: str = "auto"  # auto | merge | rebase
    base_ref: str = DEFAULT_BASE_REF
    dry_run: bool = False
    message: Optional[str] = None
    lock_wait: float = DEFAULT_LOCK_WAIT
    allow_active_sessions: bool = False


@dataclass(frozen=True)
class RestoreOptions:
    backup: str = ""  # absolute path of the dump
    lock_wait: float = DEFAULT_LOCK_WAIT
    allow_active_sessions: bool = False


@dataclass(frozen=True)
class MigrationSafetyOptions:
    revision: str = ""
    path: str = ""
    parents: Tuple[str, ...] = ()  # down revisions and depends_on: stand-ins in the sandbox
    squawk: str = ""  # squawk's executable
    squawk_args: Tuple[str, ...] = ()
    exclude: Tuple[str, ...] = ()
    timeouts_set: bool = False  # whether the target sets a lock or statement timeout


@dataclass(frozen=True)
class VerifyOptions:
    skip: Tuple[str, ...] = ()  # the target's verify_skip, full ids
    cli_skip: Tuple[str, ...] = ()  # --skip, full ids of this component, not in `skip`
    min_revision: Optional[str] = None
    full_snapshots: bool = False  # read the whole schema after every step (tests)
    check_every_step: bool = False  # compare incremental reads with full ones (tests)


@dataclass(frozen=True)
class ExpectedSchemaOptions:
    """`db-status --drift`: the catalog a replay from base to `revisions` gives, on a throwaway
    PostgreSQL in a cached process (no URL, no host state)."""

    revisions: Tuple[str, ...] = ()  # what the live version table records (full ids)


@dataclass(frozen=True)
class SnapshotOptions:
    """Replay base -> `target` on a throwaway PostgreSQL and capture the database (cached)."""

    # Full revision ids (the heads the database ends at), never a label: `head` and its id are
    # the same snapshot, one cache key.
    target: Tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadSnapshotOptions:
    """`db-migrate --from-snapshot`: load a snapshot into the empty database instead of replaying."""

    snapshot_file: str = ""  # relative to the runner's sandbox; empty with `dry_run`
    target: Tuple[str, ...] = ()  # the snapshot's revisions
    target_label: str = "head"
    source: str = ""  # where the snapshot came from: "cached locally", "built now", ...
    build_seconds: float = 0.0  # the replay that built it (0 when it came from a cache)
    lock_wait: float = DEFAULT_LOCK_WAIT
    dry_run: bool = False
    # A database that does not exist yet: created as a clone of a template kept on its server
    # (always on the development server).
    snapshot_template: bool = False


CommandOptions = Union[
    MigrateOptions,
    AcceptOptions,
    SqlOptions,
    SyntaxOptions,
    DevServerOptions,
    StatusOptions,
    CreateOptions,
    RebaseOptions,
    RestoreOptions,
    MigrationSafetyOptions,
    VerifyOptions,
    ExpectedSchemaOptions,
    SnapshotOptions,
    LoadSnapshotOptions,
]

# Each command's options: what the runner's `commands/<name>.run` takes as `RunnerPlan[...]`.
OPTIONS: Dict[RunnerCommand, Type[Any]] = {
    RunnerCommand.MIGRATE: MigrateOptions,
    RunnerCommand.ACCEPT: AcceptOptions,
    RunnerCommand.SQL: SqlOptions,
    RunnerCommand.SYNTAX: SyntaxOptions,
    RunnerCommand.DEVSERVER: DevServerOptions,
    RunnerCommand.STATUS: StatusOptions,
    RunnerCommand.CREATE: CreateOptions,
    RunnerCommand.REBASE: RebaseOptions,
    RunnerCommand.RESTORE: RestoreOptions,
    RunnerCommand.MIGRATION_SAFETY: MigrationSafetyOptions,
    RunnerCommand.VERIFY: VerifyOptions,
    RunnerCommand.EXPECTED_SCHEMA: ExpectedSchemaOptions,
    RunnerCommand.SNAPSHOT: SnapshotOptions,
    RunnerCommand.LOAD_SNAPSHOT: LoadSnapshotOptions,
}
_COMMAND_OF = {options: command for command, options in OPTIONS.items()}


def command_of(options: CommandOptions) -> RunnerCommand:
    """The command whose options these are."""
    try:
        return _COMMAND_OF[type(options)]
    except KeyError:
        raise ContractError(f"{type(options).__name__} are no runner command's options") from None


class _FactsJson:
    """The JSON of the latest few tuples of revisions, and of each revision in them, by identity.

    pantsd hands every run the same component setup, and with it the same tuple of revisions,
    until a file changes; after an edit, every revision but the edited file's is the same object
    again (`component_setup.RevisionFileMemo`). At thousands of revisions writing them is most of
    a plan's cost. Each entry holds its object, so no other object can take its id while it is kept.
    """

    def __init__(self, tuples: int = 8, facts: int = 200_000) -> None:
        self._limits = (tuples, facts)
        self._tuples: Dict[int, Tuple[Tuple[Revision, ...], str]] = {}
        self._facts: Dict[int, Tuple[Revision, str]] = {}

    def text(self, revisions: Tuple[Revision, ...]) -> str:
        return self._kept(self._tuples, self._limits[0], revisions, self._tuple_text)

    def _tuple_text(self, revisions: Tuple[Revision, ...]) -> str:
        return (
            "["
            + ", ".join(self._kept(self._facts, self._limits[1], r, _fact_text) for r in revisions)
            + "]"
        )

    @staticmethod
    def _kept(memo: Dict[int, Tuple[Any, str]], limit: int, value: Any, write) -> str:
        kept = memo.get(id(value))
        if kept is not None and kept[0] is value:
            return kept[1]
        text = write(value)
        while len(memo) >= limit:
            memo.pop(next(iter(memo)))
        memo[id(value)] = (value, text)
        return text


def _fact_text(revision: Revision) -> str:
    # `asdict` would deep-copy the revision.
    return json.dumps(revision.__dict__, sort_keys=True)


_FACTS_JSON = _FactsJson()
_REVISION_KEYS = frozenset(f.name for f in dataclasses.fields(Revision))

Opts = TypeVar("Opts")


@dataclass(frozen=True)
class RunnerPlan(Generic[Opts]):
    """One runner command for one component. `options` is the command's own options class."""

    command: RunnerCommand
    component: str
    selector: str  # how the user selects this component, for the commands we suggest
    config: str  # the ini, relative to the sandbox (= build root layout)
    url_env: str
    buildroot: str  # empty in cached processes (no host path)
    options: Opts
    revisions: Tuple[Revision, ...] = ()  # Alembic's load order, each with its file's checksum
    heads: Tuple[str, ...] = ()
    shared: SharedSettings = field(default_factory=SharedSettings)

    def __post_init__(self) -> None:
        expected = OPTIONS.get(self.command)
        if expected is None or type(self.options) is not expected:
            raise ContractError(
                f"plan for command {getattr(self.command, 'value', self.command)!r} carries"
                f" {type(self.options).__name__}, not {getattr(expected, '__name__', 'options')}"
            )

    def to_json(self) -> str:
        rest = json.dumps(
            {
                "command": self.command.value,
                "component": self.component,
                "selector": self.selector,
                "config": self.config,
                "url_env": self.url_env,
                "buildroot": self.buildroot,
                "heads": list(self.heads),
                "shared": dataclasses.asdict(self.shared),
                "options": dataclasses.asdict(self.options),  # type: ignore[call-overload]
            },
            sort_keys=True,
        )
        return f'{{"revisions": {_FACTS_JSON.text(self.revisions)}, {rest[1:]}'

    @classmethod
    def from_json(cls, text: str) -> RunnerPlan[Any]:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, raw: Any) -> RunnerPlan[Any]:
        _expect_keys("the plan", raw, _PLAN_KEYS)
        try:
            command = RunnerCommand(raw["command"])
        except ValueError:
            raise ContractError(f"the plan names no runner command: {raw['command']!r}") from None
        where = f"plan for command {command.value!r}"
        return cls(
            command=command,
            component=_typed(where, "component", str, raw["component"]),
            selector=_typed(where, "selector", str, raw["selector"]),
            config=_typed(where, "config", str, raw["config"]),
            url_env=_typed(where, "url_env", str, raw["url_env"]),
            buildroot=_typed(where, "buildroot", str, raw["buildroot"]),
            options=_read(f"{where}: options", OPTIONS[command], raw["options"]),
            revisions=_revisions(where, raw["revisions"]),
            heads=_typed(where, "heads", Tuple[str, ...], raw["heads"]),
            shared=_read(f"{where}: shared", SharedSettings, raw["shared"]),
        )


_PLAN_KEYS = frozenset(f.name for f in dataclasses.fields(RunnerPlan))

# The commands one runner process may run for several components at once, each in a thread of its
# own: read-only ones, which take no lock and load no user code (`db-status ::` starts one
# interpreter and imports psycopg once instead of once per component).
BATCHABLE = frozenset({RunnerCommand.STATUS})
BATCH_KEY = "batch"


@dataclass(frozen=True)
class RunnerBatch:
    """Several components' plans for one runner process, in the order their output is shown.

    The runner's result file then holds one `BatchEntry` per plan, in the same order.
    """

    plans: Tuple[RunnerPlan, ...]

    def __post_init__(self) -> None:
        if not self.plans:
            raise ContractError("a batch holds no plan")
        for plan in self.plans:
            if plan.command not in BATCHABLE:
                raise ContractError(f"command {plan.command.value!r} cannot run in a batch")

    def to_json(self) -> str:
        return f'{{"{BATCH_KEY}": [' + ", ".join(p.to_json() for p in self.plans) + "]}"


@dataclass(frozen=True)
class BatchEntry:
    """What one plan of a batch did: its exit code, what it printed, and its outcome (the JSON a
    single runner writes to its result file)."""

    exit_code: int
    stdout: str
    stderr: str
    outcome: Dict[str, Any]

    @staticmethod
    def list_to_json(entries: Tuple[BatchEntry, ...]) -> str:
        return json.dumps({BATCH_KEY: [dataclasses.asdict(e) for e in entries]})

    @classmethod
    def list_from_json(cls, text: str) -> Tuple[BatchEntry, ...]:
        raw = json.loads(text)
        _expect_keys("the batch's result", raw, frozenset({BATCH_KEY}))
        return tuple(_read("the batch's result", cls, entry) for entry in raw[BATCH_KEY])


def read_request(text: str) -> Union[RunnerPlan[Any], RunnerBatch]:
    """The runner's plan file: one plan, or a batch of them."""
    raw = json.loads(text)
    if isinstance(raw, dict) and BATCH_KEY in raw:
        _expect_keys("the batch", raw, frozenset({BATCH_KEY}))
        if not isinstance(raw[BATCH_KEY], list):
            raise ContractError("the batch's plans are not a list")
        return RunnerBatch(tuple(RunnerPlan.from_dict(plan) for plan in raw[BATCH_KEY]))
    return RunnerPlan.from_dict(raw)


def _expect_keys(where: str, raw: Any, names: frozenset) -> None:
    if not isinstance(raw, dict):
        raise ContractError(f"{where} is not a JSON object")
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ContractError(f"{where}: unknown key {unknown[0]!r}")
    missing = sorted(names - set(raw))
    if missing:
        raise ContractError(f"{where}: missing key {missing[0]!r}")


def _revisions(where: str, raw: Any) -> Tuple[Revision, ...]:
    """Read without the generic checks below: a plan may hold 10,000 of them."""
    if not isinstance(raw, list):
        raise ContractError(f"{where}: revisions is not a list")
    out = []
    for r in raw:
        if not isinstance(r, dict) or r.keys() != _REVISION_KEYS:
            _expect_keys(f"{where}: revision", r, _REVISION_KEYS)
        out.append(
            Revision(
                revision=r["revision"],
                down_revisions=tuple(r["down_revisions"]),
                branch_labels=tuple(r["branch_labels"]),
                depends_on=tuple(r["depends_on"]),
                message=r["message"],
                path=r["path"],
                checksum=r["checksum"],
            )
        )
    return tuple(out)


_HINTS: Dict[type, Dict[str, Any]] = {}


def _read(where: str, cls: Type[Any], raw: Any) -> Any:
    """An instance of the dataclass `cls` from its JSON object: every field, nothing else."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    names = frozenset(f.name for f in dataclasses.fields(cls))
    _expect_keys(where, raw, names)
    return cls(**{name: _typed(where, name, hints[name], raw[name]) for name in names})


def _typed(where: str, name: str, hint: Any, value: Any) -> Any:
    """`value` as the type `hint` says (JSON lists as tuples), or a ContractError naming `name`."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union:
        if value is None and type(None) in args:
            return None
        (hint,) = (a for a in args if a is not type(None))
        return _typed(where, name, hint, value)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ContractError(f"{where}: {name!r} must be a list, not {value!r}")
        items = args[:1] * len(value) if args[1:] == (Ellipsis,) else args
        if len(items) != len(value):
            raise ContractError(f"{where}: {name!r} must have {len(items)} items, not {value!r}")
        return tuple(_typed(where, name, item, v) for item, v in zip(items, value))
    if origin is dict:  # a JSON object kept as read (a batch entry's outcome)
        if not isinstance(value, dict):
            raise ContractError(f"{where}: {name!r} must be an object, not {value!r}")
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ContractError(f"{where}: {name!r} must be {hint.__name__}, not {value!r}")
    return value
