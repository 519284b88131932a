"""What `db-verify` tells the user about one component: its success block and every failure.

Pure: built from the round trip's `Record` (what it applied, reverted and learnt on the way) and
the plan's facts, with no database. Every failure names the first revision involved, its file,
and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

from db_migrate.core import report
from db_migrate.core.contract import RunnerPlan, VerifyOptions
from db_migrate.core.report import Problem, VerificationResult
from db_migrate.core.revision_file import Revision
from db_migrate.runner.postgres.errors import db_error_text
from db_migrate.runner.verify.model_diff import ModelDifference
from db_migrate.runner.verify.schema import Delta, Key, SchemaDiff

MAX_LISTED = 40


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


@dataclass(frozen=True)
class Policy:
    """What a component's round trip leaves out, as full revision ids."""

    skip: FrozenSet[str] = frozenset()  # the target's `verify_skip` field
    cli_skip: FrozenSet[str] = frozenset()  # `--skip` on the command line
    min_revision: Optional[str] = None  # `verify_min_revision`: never downgraded below

    @classmethod
    def of(cls, options: VerifyOptions) -> Policy:
        return cls(
            frozenset(options.skip),
            frozenset(options.cli_skip) - frozenset(options.skip),
            options.min_revision or None,
        )

    def skips(self, revision: str) -> bool:
        return revision in self.skip or revision in self.cli_skip

    def origin(self, revision: str) -> str:
        """Where the skip came from, as the user wrote it."""
        return "verify_skip" if revision in self.skip else "--skip"


@dataclass
class Record:
    """What a round trip has done so far, for the report and for blame."""

    facts: Dict[str, Revision]
    order: List[str] = field(default_factory=list)  # upgrade order
    deltas: Dict[str, Delta] = field(default_factory=dict)  # revision -> what its upgrade changed
    introduced: Dict[Key, str] = field(default_factory=dict)  # object -> last revision changing it
    ignored: set = field(default_factory=set)  # objects a skipped downgrade left different
    skipped: Dict[str, SchemaDiff] = field(default_factory=dict)  # skipped downgrades: what stayed
    reverted: List[str] = field(default_factory=list)
    timings: List[Tuple[str, float]] = field(default_factory=list)

    def upgraded(self, revision: str, change: Delta) -> None:
        self.order.append(revision)
        self.deltas[revision] = change
        for key in change:
            self.introduced[key] = revision

    def label(self, revision: str) -> str:
        fact = self.facts.get(revision)
        return f"{revision} ({fact.message})" if fact and fact.message else revision

    def path(self, revision: str) -> str:
        fact = self.facts.get(revision)
        return fact.path if fact else revision

    def culprits(self, keys: Iterable[Key]) -> List[str]:
        """Revisions whose upgrades last changed these objects, in upgrade order."""
        found = {self.introduced[k] for k in keys if k in self.introduced}
        return [r for r in self.order if r in found]


# -- success ---------------------------------------------------------------------------------


def _skip_lines(record: Record, policy: Policy) -> List[str]:
    lines = []
    for revision in record.order:
        if not policy.skips(revision):
            continue
        origin = policy.origin(revision)
        left = record.skipped.get(revision)
        if revision not in record.reverted:
            lines.append(
                f"{record.label(revision)}: in {origin}, but never downgraded (below verify_min_revision)"
            )
        elif left:
            lines.append(
                f"{record.label(revision)}: downgrade not compared ({origin}); it leaves {left.summary()}"
            )
        else:
            needless = (
                "so verify_skip can go" if origin == "verify_skip" else "so --skip is not needed"
            )
            lines.append(
                f"{record.label(revision)}: downgrade not compared ({origin}); it restores the schema anyway,"
                f" {needless}"
            )
    return lines


def success(
    plan: RunnerPlan, record: Record, policy: Policy, seconds: float, models_note: Optional[str]
) -> VerificationResult:
    total, reverted = len(record.order), len(record.reverted)
    compared = reverted - len(record.skipped)
    checked = [
        f"Upgrade from empty to head, one revision at a time: {_plural(total, 'revision')}",
        f"Downgrade one revision at a time to {policy.min_revision or report.BASE}: schema restored"
        f" after {compared} of {_plural(reverted, 'downgrade')}",
        "Upgrade to head again: the same schema as the first upgrade",
    ]
    if models_note is None:
        checked.append("Models match the schema at head (Alembic autogenerate): no differences")
    skipped = _skip_lines(record, policy)
    if policy.min_revision:
        kept = total - reverted - 1
        skipped.append(
            f"Not downgraded: {policy.min_revision} and {_plural(kept, 'revision')} before it"
            f" (verify_min_revision = {policy.min_revision})"
        )
    if models_note:
        skipped.append(models_note)
    head = ", ".join(plan.heads) or (record.order[-1] if record.order else report.BASE)
    return VerificationResult(
        component=plan.component,
        revisions=total,
        head=head,
        checked=tuple(checked),
        skipped=tuple(skipped),
        seconds=seconds,
        timings=tuple(record.timings),
    )


# -- failures --------------------------------------------------------------------------------


def _rerun(plan: RunnerPlan) -> str:
    return f"Rerun: {report.goal('db-verify', plan.selector)}"


def downgrade_mismatch(
    plan: RunnerPlan, record: Record, revision: str, difference: SchemaDiff
) -> Problem:
    done = len(record.reverted) - 1
    path = record.path(revision)
    return Problem(
        title=f"Downgrade of {revision} does not restore the schema",
        details=(
            f"{plan.component}: after downgrading {record.label(revision)}, the schema differs from"
            " the schema before its upgrade",
            f"Revision file: {path}",
            *difference.render(
                extra_title="Left behind (the upgrade created or changed it; the downgrade did not undo it):",
                missing_title="Removed (it existed before the upgrade; the downgrade dropped it):",
                changed_title="Changed (before the upgrade → after the downgrade):",
            ),
            f"Verified before it: {len(record.order)} upgrades, {_plural(done, 'downgrade')}",
        ),
        actions=(
            f"Fix downgrade() in {path} so it undoes exactly what upgrade() does",
            _rerun(plan),
            f'If the step is knowingly irreversible, add "{revision}" to verify_skip (or set'
            f" verify_min_revision) in {plan.component}'s alembic_migrations target ({plan.selector})",
        ),
        kind="downgrade_mismatch",
    )


def _phase_of(upgrade: bool, record: Record) -> str:
    if not upgrade:
        return "downgrading one revision at a time"
    return (
        "upgrading again after the downgrades"
        if record.reverted
        else "upgrading from an empty database"
    )


def step_failed(
    plan: RunnerPlan, record: Record, upgrade: bool, revision: str, error: BaseException
) -> Problem:
    function = "upgrade" if upgrade else "downgrade"
    actions = [f"Fix {function}() in {record.path(revision)}", _rerun(plan)]
    if not upgrade:
        actions.append(
            f'If the step is knowingly irreversible, do not downgrade below it: verify_min_revision="{revision}"'
            f" in {plan.component}'s alembic_migrations target ({plan.selector})"
        )
    elif record.reverted and record.ignored:
        actions.append(
            "A revision in verify_skip left objects behind; consider verify_min_revision instead"
        )
    return Problem(
        title=f"{function.capitalize()} of {revision} failed",
        details=(
            f"{plan.component}: {record.label(revision)} raised an error while"
            f" {_phase_of(upgrade, record)}; its changes were rolled back",
            f"Revision file: {record.path(revision)}",
            f"Database said: {db_error_text(error)}",
        ),
        actions=tuple(actions),
        kind="verify_step_failed",
    )


def env_failed(plan: RunnerPlan, error: BaseException) -> Problem:
    return Problem(
        title="Alembic environment failed",
        details=(
            f"{plan.component}: running env.py ({plan.config}) raised"
            f" {type(error).__name__}: {db_error_text(error)}",
        ),
        actions=(
            f"Check that env.py and the models it imports load: pants db-migrate {plan.selector} on a scratch database",
            "Rerun with DB_MIGRATE_DEBUG=1 for the traceback",
        ),
        kind="env_failed",
    )


def not_empty(plan: RunnerPlan, objects: int) -> Problem:
    return Problem(
        title="The throwaway database is not empty",
        details=(f"{plan.component}: before the first upgrade it already has {objects} objects",),
        actions=("This is a bug in pants-db-migrate: report it",),
        kind="verify_not_empty",
    )


def reupgrade_mismatch(plan: RunnerPlan, record: Record, difference: SchemaDiff) -> Problem:
    culprits = record.culprits(difference.keys())
    first = culprits[0] if culprits else (record.order[-1] if record.order else "head")
    return Problem(
        title=f"Upgrading again does not reproduce the schema ({first})",
        details=(
            f"{plan.component}: after downgrading and upgrading again, the schema at head differs from"
            " the first upgrade's",
            *(f"Revision involved: {record.label(r)}, {record.path(r)}" for r in culprits[:5]),
            *difference.render(
                extra_title="Only after upgrading again:",
                missing_title="Only after the first upgrade:",
                changed_title="Changed (first upgrade → upgrading again):",
            ),
        ),
        actions=(
            "Make upgrade() independent of what earlier downgrades left (e.g. IF NOT EXISTS is a smell here)",
            _rerun(plan),
        ),
        kind="reupgrade_mismatch",
    )


def _blamed(record: Record, found: Sequence[ModelDifference]) -> Tuple[List[str], List[str]]:
    """(one line per difference with the revision that last changed it, those revisions)."""
    lines, involved = [], []
    for difference in found:
        culprits = record.culprits(difference.keys)
        text = difference.text
        if culprits:
            text += f" (last changed by {culprits[-1]})"
            involved.append(culprits[-1])
        lines.append(f"  - {text}")
    return lines, [r for r in record.order if r in set(involved)]


def models_differ(plan: RunnerPlan, record: Record, found: Sequence[ModelDifference]) -> Problem:
    lines, involved = _blamed(record, found)
    head = record.order[-1] if record.order else "head"
    first = involved[0] if involved else head
    shown = report.first_few(lines, "  ... and {n} more", MAX_LISTED)
    return Problem(
        title=f"Models differ from the migrated schema ({first})",
        details=(
            f"{plan.component}: at head ({head}) Alembic's autogenerate comparison finds"
            f" {_plural(len(found), 'difference')} between the models and the schema the revisions build",
            f"First revision involved: {record.label(first)}, {record.path(first)}"
            if involved
            else f"No revision creates what the models add: the history ends at {record.label(head)}",
            *shown,
        ),
        actions=(
            "Change the models to match the revisions, or write a revision that makes the schema match the models:"
            f" {report.goal('db-create-migration', plan.selector, '--message=...')}",
            _rerun(plan),
        ),
        kind="models_differ",
    )


def revision_load_failed(plan: RunnerPlan, path: str, line: int, message: str) -> Problem:
    """A revision file that fails when Alembic imports it: the user's code, with file and line."""
    where = f"{path}:{line}" if line else path
    return Problem(
        title="Cannot load revision file",
        details=(f"{plan.component}: importing {where} raised {message}",),
        actions=(f"Fix {where}", _rerun(plan)),
        kind="revision_load_failed",
    )
