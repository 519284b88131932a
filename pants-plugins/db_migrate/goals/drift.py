"""`db-status --drift`: the live catalog (read by db-status's read-only runner) against the
catalog the component's scripts give at the revision the database records.

The expected side is a cached `Process` (`rules/expected_schema_process.py`): the second check of
a database at the same revision replays nothing. A database several components share holds
their version tables and their objects: the other components' expected schemas at the revisions
their own version tables record say what is theirs (`core/drift.compare`'s `others`). A database
with no version table, none applied, or a revision the scripts lack is said to be so: nothing is
guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from pants.engine.internals.session import RunId
from pants.engine.rules import Get, MultiGet
from pants.engine.target import AllTargets

from db_migrate.core import drift, report
from db_migrate.core.contract import ExpectedSchemaOptions
from db_migrate.core.status_report import ComponentStatus
from db_migrate.goals.component_run import build_plan
from db_migrate.rules.component_setup import ComponentSetup
from db_migrate.rules.expected_schema_process import ExpectedSchemaRequest, ExpectedSchemaResult
from db_migrate.rules.verify_process import source_label
from db_migrate.target_types import AlembicMigrationsFieldSet

CLEAN, DRIFT = "clean", "drift"
# What drift detection cannot compare, and says instead of guessing.
NO_VERSION_TABLE, NO_REVISION, UNKNOWN_REVISION = "no-version-table", "no-revision", "unknown"
NOT_READ, FAILED = "not-read", "error"


@dataclass(frozen=True)
class DriftCheck:
    """What `--drift` found for one component: the text to print and its JSON report entry."""

    state: str
    lines: Tuple[str, ...]
    entry: Dict[str, Any] = field(default_factory=dict)
    failed: bool = False  # the expected schema could not be replayed: db-status cannot tell

    @property
    def drifted(self) -> bool:
        return self.state != CLEAN


def expected_request(setup: ComponentSetup, revisions: Sequence[str]) -> ExpectedSchemaRequest:
    """The cached replay's request: facts from the files and the revision(s), no host state."""
    plan = build_plan(setup, ExpectedSchemaOptions(tuple(revisions)))
    return ExpectedSchemaRequest(setup.field_set, plan.to_json(), ", ".join(revisions) or "base")


def _cannot_tell(state: str, why: str) -> DriftCheck:
    return DriftCheck(state, (f"Drift: {report.WARNING} not compared: {why}",), {"why": why})


def _unknowable(
    status: ComponentStatus, live: Optional[Mapping[str, Any]], version_table: str
) -> Optional[DriftCheck]:
    """Why there is nothing to compare with (a DriftCheck saying so), or None."""
    if live is None:
        return _cannot_tell(NOT_READ, status.why or "the database could not be read")
    tables = {_bare(t) for t in live.get("version_tables") or {}}
    if _bare(version_table) not in tables:
        return _cannot_tell(
            NO_VERSION_TABLE,
            f"the database has no version table ({version_table}), so no revision to expect",
        )
    if status.unknown:
        return _cannot_tell(
            UNKNOWN_REVISION,
            f"the database records {', '.join(status.unknown)}, which is not in these scripts'"
            " history: its expected schema is unknown",
        )
    if not status.current:
        return _cannot_tell(NO_REVISION, "the version table records no revision yet")
    return None


def _bare(table: str) -> str:
    return table[len("public.") :] if table.startswith("public.") else table


async def _others(
    setup: ComponentSetup, version_tables: Mapping[str, List[str]]
) -> Tuple[List[List[str]], List[str]]:
    """The expected rows of the other components whose version tables are in the database (at
    their recorded revisions), and notes on those it cannot tell."""
    own = _bare(setup.ini.version_table) if setup.ini else ""
    found = {_bare(t): revs for t, revs in version_tables.items() if _bare(t) != own}
    if not found:
        return [], []
    everything = await Get(AllTargets)
    field_sets = [
        AlembicMigrationsFieldSet.create(t)
        for t in everything
        if AlembicMigrationsFieldSet.is_applicable(t) and t.address != setup.field_set.address
    ]
    setups = await MultiGet(Get(ComponentSetup, AlembicMigrationsFieldSet, fs) for fs in field_sets)
    requests, notes = [], []
    for table, revisions in sorted(found.items()):
        other = next((s for s in setups if s.ini and _bare(s.ini.version_table) == table), None)
        if other is None:
            notes.append(f"{table}: the version table of no component here; its objects count")
            continue
        if not revisions:
            continue  # nothing applied: nothing of theirs
        if other.problems or any(r not in {x.revision for x in other.revisions} for r in revisions):
            notes.append(
                f"{table}: {other.component}'s revision is unknown here; its objects count"
            )
            continue
        requests.append(expected_request(other, revisions))
    results = await MultiGet(Get(ExpectedSchemaResult, ExpectedSchemaRequest, r) for r in requests)
    rows = [row for result in results if result.exit_code == 0 for row in result.objects()]
    notes += [
        f"{r.field_set.component_name}: its history does not replay; its objects count"
        for r, result in zip(requests, results)
        if result.exit_code != 0
    ]
    return rows, notes


async def drift_check(
    setup: ComponentSetup,
    status: ComponentStatus,
    live: Optional[Mapping[str, Any]],
    database: str,
    run_id: RunId,
) -> DriftCheck:
    """Compare the live catalog with the replay at the recorded revision(s), or say why not."""
    version_table = setup.ini.version_table if setup.ini else "alembic_version"
    unknowable = _unknowable(status, live, version_table)
    if unknowable is not None or live is None:
        return unknowable or _cannot_tell(NOT_READ, "the database could not be read")
    request = expected_request(setup, status.current)
    result = await Get(ExpectedSchemaResult, ExpectedSchemaRequest, request)
    if result.exit_code != 0:
        why = result.stderr.strip() or result.stdout.strip() or f"exit code {result.exit_code}"
        return DriftCheck(FAILED, (why,), {"why": "the replay of the expected schema failed"}, True)
    others, notes = await _others(setup, live.get("version_tables") or {})
    found = drift.compare(
        result.objects(),
        live.get("objects") or [],
        version_table=version_table,
        version_tables=list(live.get("version_tables") or {}),
        others=others,
    )
    lines = drift.render(found, ", ".join(status.current), database)
    entry = {
        **found.to_dict(),
        "revisions": list(status.current),
        "expected_cached": source_label(result.metadata, run_id),
        "notes": notes,
    }
    return DriftCheck(DRIFT if found else CLEAN, tuple(lines + [f"  ({n})" for n in notes]), entry)
