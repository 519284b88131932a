"""`db-rebase` inside the resolved environment: turn diverged heads into one.

Decisions are pure (`rebase_plan`); this module does the effects, in the order that keeps the
workspace and the database consistent whatever fails:
1. everything is computed and checked first (edits parse, the new history has one head, the
   workspace files are still what Pants read); `--dry-run` stops after printing it;
2. merge: Alembic renders the merge revision from `script.py.mako`; it is written to the workspace;
3. rebase: if the database applied the branch being moved, it is downgraded to the fork point
   first (with db-migrate's backup), then the files are edited, then the branch is re-applied on
   its new parent, so the database never claims revisions that did not run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from db_migrate.core import report
from db_migrate.core.alembic_ini import AlembicIni, parse_alembic_ini
from db_migrate.core.contract import MigrateOptions, RebaseOptions, RunnerCommand, RunnerPlan
from db_migrate.core.history import History
from db_migrate.core.outcome import Outcome
from db_migrate.core.report import Problem, ProblemError
from db_migrate.core.revision_file import Revision, RevisionFileError, parse_revision_file
from db_migrate.core.revision_order import base_to_head_order
from db_migrate.runner.rebase_plan import (
    MERGE,
    Branch,
    Repoint,
    RewriteError,
    StrategyChoice,
    StrategyRefused,
    apply_edits,
    choose_strategy,
    merge_message,
    rebase_edits,
    repoint_text,
    split_branches,
)
from db_migrate.runner.tamper.git_ref import files_at_ref
from db_migrate.runner.workspace import (
    WrittenFile,
    check_unchanged,
    rewrite,
    sandbox_relpath,
    write_new,
)

# ---------------------------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------------------------


def strategy_refused(
    plan: RunnerPlan[RebaseOptions], strategy: str, base_ref: str, why: str
) -> Problem:
    return Problem(
        title=f"Cannot resolve {plan.component}'s heads with --strategy={strategy}",
        details=(why, "Nothing was changed."),
        actions=(
            f"Join the heads with an empty merge revision: {report.goal('db-rebase', plan.selector, '--strategy=merge')}",
            f"Name the shared branch git knows: {report.goal('db-rebase', plan.selector, '--base-ref=origin/main')}",
            f"See the heads: {report.goal('db-status', plan.selector)}",
        ),
        related=report.goal("db-status", plan.selector),
        kind="rebase_refused",
    )


def cannot_edit(plan: RunnerPlan[RebaseOptions], path: str, why: str) -> Problem:
    return Problem(
        title="Cannot rebase: a revision file cannot be edited safely",
        details=(f"{path}: {why}", "Nothing was changed."),
        actions=(
            f"Edit its down_revision by hand, or join the heads instead: "
            f"{report.goal('db-rebase', plan.selector, '--strategy=merge')}",
        ),
        kind="rebase_refused",
    )


def no_single_fork(plan: RunnerPlan[RebaseOptions], branch: Branch) -> Problem:
    return Problem(
        title="Cannot rebase: the database applied a branch with several starting points",
        details=(
            f"{branch.describe()} starts from {', '.join(branch.forks) or report.BASE}",
            "The database must first leave that branch; nothing was changed.",
        ),
        actions=(
            "Downgrade it below the branch yourself: "
            + report.goal(
                "db-migrate", plan.selector, "--direction=downgrade", "--target=<revision>"
            ),
            f"Then retry: {report.goal('db-rebase', plan.selector)}",
        ),
        kind="rebase_refused",
    )


def reapply_failed(
    plan: RunnerPlan[RebaseOptions], changed: Sequence[WrittenFile], problem: Problem
) -> Problem:
    return Problem(
        title=problem.title,
        details=(
            *problem.details,
            "The files were rebased (" + ", ".join(f.path for f in changed) + "),"
            " and the database stays below your branch.",
        ),
        actions=(
            *problem.actions,
            f"Re-apply after fixing it: {report.goal('db-migrate', plan.selector)}",
        ),
        related=problem.related,
        footer=problem.footer,
        kind=problem.kind,
    )


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Context:
    plan: RunnerPlan[RebaseOptions]
    ini: AlembicIni
    revisions: Tuple[Revision, ...]  # base → head
    graph: History
    dry_run: bool


def _head_infos(ctx: _Context, heads: Sequence[str]) -> List[Tuple[str, str]]:
    return [(h, ctx.graph.get(h).message) for h in heads]


def run(plan: RunnerPlan[RebaseOptions], environ: Mapping[str, str], outcome: Outcome) -> Outcome:
    requested, base_ref = plan.options.strategy, plan.options.base_ref
    ini = parse_alembic_ini(plan.config, Path(plan.config).read_text())
    graph = History(plan.revisions)
    # Any order with parents first does here; Alembic's own costs seconds at thousands.
    ordered = base_to_head_order(graph.revisions)
    ctx = _Context(plan, ini, ordered, graph, plan.options.dry_run)
    heads = tuple(graph.heads)
    if len(heads) < 2:
        print(
            f"{report.SUCCESS} {plan.component} has a single head ({report.describe_heads(heads)}): nothing to resolve"
        )
        return outcome.finish("up-to-date", heads)

    files_on_base, ref_error = None, None
    if requested != MERGE:
        directories = {str(Path(r.path).parent) for r in ctx.revisions}
        files_on_base, ref_error = files_at_ref(plan.buildroot, base_ref, directories)
    branches = split_branches(ctx.revisions, heads, files_on_base)
    try:
        choice = choose_strategy(requested, branches, base_ref, ref_error)
    except StrategyRefused as e:
        raise ProblemError(strategy_refused(plan, requested, base_ref, e.why)) from None

    print(
        f"{plan.component}: {len(heads)} heads: "
        + ", ".join(f"{h}: {m}" for h, m in _head_infos(ctx, heads))
    )
    how = "auto" if requested == "auto" else f"--strategy={requested}"
    print(f"Strategy: {choice.strategy} ({how}: {choice.reason})", flush=True)
    outcome.extra = {"strategy": choice.strategy, "reason": choice.reason, "dry_run": ctx.dry_run}
    if choice.strategy == MERGE:
        return _merge(ctx, heads, environ, outcome)
    return _rebase(ctx, choice, environ, outcome)


def _quiet_config(plan: RunnerPlan[RebaseOptions]):
    from alembic.config import Config

    config = Config(plan.config, cmd_opts=argparse.Namespace(quiet=True, x=None))
    config.attributes["configure_logger"] = False
    return config


def _merge(
    ctx: _Context, heads: Sequence[str], environ: Mapping[str, str], outcome: Outcome
) -> Outcome:
    plan = ctx.plan
    message = (plan.options.message or "").strip() or merge_message(_head_infos(ctx, heads))
    if ctx.dry_run:
        _print_merge_plan(plan, heads, message)
        return outcome.finish("dry-run", tuple(heads))
    relpath, text, merged = _render_merge(ctx, heads, message)
    written = write_new(plan.buildroot, relpath, text, in_sandbox=False)
    lines = [
        f"{report.SUCCESS} Heads resolved: merge",
        "",
        f"Component: {plan.component}",
        f"Merge revision: {merged.revision}: {merged.message}",
        f"Joins: {', '.join(merged.down_revisions)}",
        "",
        "Files written:",
        f"  - {written.path} (new)",
        "",
        f"New head: {merged.revision}",
        *_next_steps(plan, [written]),
    ]
    print("", flush=True)
    print("\n".join(lines), flush=True)
    outcome.extra.update(files=[{"path": written.path, "created": True}], head=merged.revision)
    return outcome.finish("merged", (merged.revision,))


def _print_merge_plan(plan: RunnerPlan[RebaseOptions], heads: Sequence[str], message: str) -> None:
    print("", flush=True)
    print(
        "\n".join(
            [
                "Dry run: nothing written. The plan:",
                f"- Write a merge revision: down_revision = ({', '.join(heads)}), upgrade and downgrade `pass`",
                f"- Message: {message}",
                f"- In: {Path(plan.shared.script_dir or '.') / 'versions'}/",
                "- No existing file is edited; the database is not touched",
            ]
        ),
        flush=True,
    )


def _render_merge(ctx: _Context, heads: Sequence[str], message: str) -> Tuple[str, str, Revision]:
    """(path, text, revision) of the merge revision Alembic renders in the sandbox, checked to
    parse and to leave one head before anything is written to the workspace."""
    from alembic import command
    from alembic import util as alembic_util

    plan = ctx.plan
    try:
        script = command.merge(_quiet_config(plan), revisions=list(heads), message=message)
    except alembic_util.CommandError as e:
        raise ProblemError(
            Problem(
                title="Cannot write the merge revision",
                details=(f"Alembic: {e}", "Nothing was changed."),
                actions=("Check the component's script.py.mako",),
                kind="rebase_failed",
            )
        ) from None
    relpath = sandbox_relpath(script.path)
    text = Path(script.path).read_text(encoding="utf-8")
    try:
        merged = parse_revision_file(relpath, text)
    except RevisionFileError as e:
        raise ProblemError(
            cannot_edit(plan, relpath, f"the rendered merge revision does not parse: {e}")
        ) from None
    after = History((*ctx.revisions, merged))
    if after.heads != (merged.revision,):
        raise ProblemError(
            cannot_edit(plan, relpath, f"the merge leaves heads {', '.join(after.heads)}")
        )
    return relpath, text, merged


def _next_steps(plan: RunnerPlan[RebaseOptions], files: Sequence[WrittenFile]) -> List[str]:
    return [
        "",
        "Next steps:",
        "- Review: git diff; git status " + " ".join(f.path for f in files),
        f"- Apply: {report.goal('db-migrate', plan.selector)}",
        f"- Verify: {report.goal('db-status', plan.selector)}",
        "- Commit the migration files",
    ]


@contextlib.contextmanager
def _database(ctx: _Context, environ: Mapping[str, str]) -> Iterator[Tuple[Optional[Any], str]]:
    """(the component's database, locked for the whole rebase, or None; a sentence about it).

    None when there is nothing to look at: a development server that was never created, or, in
    a dry run, a database that is not reachable (a dry run never starts or locks anything).
    """
    from db_migrate.core.database_url import resolve_url
    from db_migrate.runner.migration.database import locked_database
    from db_migrate.runner.postgres.connection import peek_database
    from db_migrate.runner.postgres.dev_server import DevServerSettings

    plan = ctx.plan
    source = resolve_url(plan.url_env, ctx.ini.url, environ, plan.component, plan.config)
    dev = DevServerSettings.of(plan.buildroot, plan.shared)
    where = source.url.masked()
    if dev.serves(source) and not dev.server(source.url).is_initialized():
        yield None, f"{where}: the development server was never created, so nothing was applied"
        return
    if not ctx.dry_run:
        with locked_database(plan, ctx.ini, environ, plan.options.lock_wait) as db:
            yield db, where
        return
    try:
        db = peek_database(plan, ctx.ini, environ)
    except ProblemError as e:
        reason = e.problem.details[0] if e.problem.details else e.problem.title
        yield None, f"{where}: not reachable now ({reason}); the real run checks it"
        return
    with db.connection:
        yield db, where


def _rebase(
    ctx: _Context, choice: StrategyChoice, environ: Mapping[str, str], outcome: Outcome
) -> Outcome:
    plan = ctx.plan
    branch, onto = choice.branch, choice.onto
    assert branch is not None and onto is not None
    edits = rebase_edits(ctx.revisions, branch, onto)
    after_revisions = apply_edits(ctx.revisions, edits)
    after = History(after_revisions)
    if len(after.heads) != 1:
        raise ProblemError(
            cannot_edit(
                plan,
                ", ".join(e.path for e in edits),
                f"the result would have heads {', '.join(after.heads)}",
            )
        )
    texts = _edited_texts(plan, edits)
    with _database(ctx, environ) as (db, where):
        current = _heads_of(ctx, db)
        applied, fork = _check_database(ctx, branch, current)
        _print_plan(ctx, branch, onto, edits, current, where, applied, fork)
        if ctx.dry_run:
            print("\nDry run: nothing changed.", flush=True)
            outcome.extra.update(
                files=[{"path": e.path, "created": False} for e in edits], head=after.heads[0]
            )
            return outcome.finish("dry-run", tuple(current or ()))
        backup = _leave_branch(ctx, db, fork) if applied else None
        changed = [
            rewrite(
                plan.buildroot,
                edit.path,
                old,
                new,
                note=f"down_revision {', '.join(edit.old_down)} → {', '.join(edit.new_down)}",
            )
            for edit, old, new in texts
        ]
        final = tuple(current or ())
        if applied:
            final = _reapply(ctx, db, after_revisions, after.heads, applied, changed)
    _report_rebase(
        ctx, outcome, branch, onto, changed, (applied, fork, final, backup), where, after
    )
    return outcome


def _edited_texts(plan: RunnerPlan[RebaseOptions], edits) -> List[Tuple[Repoint, str, str]]:
    """(edit, old text, new text) per file, checked before anything is touched."""
    texts = []
    for edit in edits:
        old = Path(edit.path).read_text(encoding="utf-8")
        try:
            new = repoint_text(old, edit.new_down, edit.path)
        except RewriteError as e:
            raise ProblemError(cannot_edit(plan, edit.path, str(e))) from None
        check_unchanged(plan.buildroot, edit.path, old)
        texts.append((edit, old, new))
    return texts


def _heads_of(ctx: _Context, db) -> Optional[Tuple[str, ...]]:
    from db_migrate.core.applied import current_heads

    return None if db is None else current_heads(db.connection, ctx.ini.version_table)


def _check_database(ctx: _Context, branch, current) -> Tuple[Tuple[str, ...], Optional[str]]:
    """(the branch's revisions the database applied, the fork to downgrade to)."""
    from db_migrate.runner.migration.problems import ahead_of_code

    applied = tuple(h for h in (current or ()) if h in branch.own)
    if current:
        unknown = [h for h in current if h not in ctx.graph]
        if unknown:
            raise ProblemError(ahead_of_code(ctx.plan, unknown, current))
    if applied and len(branch.forks) != 1:
        raise ProblemError(no_single_fork(ctx.plan, branch))
    return applied, (branch.forks[0] if branch.forks else None)


def _print_plan(ctx: _Context, branch, onto, edits, current, where, applied, fork) -> None:
    lines = [f"Rebase {branch.describe()} onto {onto}:"]
    lines += [
        f"  - {e.path}: down_revision {', '.join(e.old_down) or 'None'} → {', '.join(e.new_down)}"
        for e in edits
    ]
    state = f"at {report.describe_heads(current)}" if current is not None else ""
    lines.append(f"Database {where}{': ' + state if state else ''}")
    if applied:
        lines.append(
            f"  it applied {', '.join(applied)} of the branch: downgrade to {fork} first (with a backup),"
            f" re-apply to {', '.join(applied)} after"
        )
    else:
        lines.append("  it has not applied the branch: it is not touched")
    print("\n".join(lines), flush=True)


def _leave_branch(ctx: _Context, db, fork):
    """Downgrade to the fork point (with the backup every downgrade takes), lock still held."""
    from db_migrate.runner.migration.flow import migrate_locked

    print(f"\n{ctx.plan.component}: leaving the branch before editing it ...", flush=True)
    down = Outcome(component=ctx.plan.component, command=RunnerCommand.MIGRATE.value)
    migrate_locked(_as_migrate(ctx.plan, "downgrade", fork), ctx.ini, db, down)
    return down.backup


def _reapply(ctx: _Context, db, after_revisions, heads, applied, changed) -> Tuple[str, ...]:
    """Upgrade again to where the database was, through the rebased history."""
    from db_migrate.runner.migration.flow import migrate_locked

    print(f"\n{ctx.plan.component}: re-applying the rebased branch ...", flush=True)
    final: Tuple[str, ...] = ()
    for target in applied:
        up = Outcome(component=ctx.plan.component, command=RunnerCommand.MIGRATE.value)
        upgrade = _as_migrate(ctx.plan, "upgrade", target, after_revisions, heads)
        try:
            migrate_locked(upgrade, ctx.ini, db, up)
        except ProblemError as e:
            raise ProblemError(reapply_failed(ctx.plan, changed, e.problem)) from None
        final = up.after
    return final


def _report_rebase(ctx: _Context, outcome, branch, onto, changed, database, where, after) -> None:
    applied, fork, final, backup = database
    plan = ctx.plan
    head = after.heads[0]
    lines = [
        f"{report.SUCCESS} Heads resolved: rebase",
        "",
        f"Component: {plan.component}",
        f"Rebased: {', '.join(branch.own)} now on top of {onto} (ids kept)",
        "",
        "Files changed:",
        *(f"  - {f.path} ({f.note})" for f in changed),
        "",
    ]
    if applied:
        lines.append(
            f"Database: downgraded to {fork} before the edit, re-applied to {', '.join(applied)} after;"
            f" now at {report.describe_heads(final)}"
        )
        if backup is not None:
            lines.append(f"Backup: {backup.path}")
    else:
        lines.append(f"Database: not touched ({where})")
    lines += ["", f"New head: {head}: {after.get(head).message}", *_next_steps(plan, changed)]
    print("", flush=True)
    print("\n".join(lines), flush=True)
    outcome.extra.update(
        files=[{"path": f.path, "created": False} for f in changed],
        head=head,
        backup=str(backup.path) if backup is not None else None,
    )
    outcome.finish("rebased", tuple(final))


def _as_migrate(
    plan: RunnerPlan[RebaseOptions],
    direction: str,
    target: str,
    revisions: Optional[Sequence[Revision]] = None,
    heads: Optional[Sequence[str]] = None,
) -> RunnerPlan[MigrateOptions]:
    """A db-migrate run to `target` under this rebase's options, optionally with the edited
    history (each revision's new parents; its checksum stays the one the plugin read)."""
    options = plan.options
    move = MigrateOptions(
        direction=direction,
        target=target,
        target_label=target,
        lock_wait=options.lock_wait,
        allow_active_sessions=options.allow_active_sessions,
        base_ref=options.base_ref,
    )
    changes: Dict[str, Any] = {"command": RunnerCommand.MIGRATE, "options": move}
    if revisions is not None:
        downs = {r.revision: tuple(r.down_revisions) for r in revisions}
        changes["revisions"] = tuple(
            dataclasses.replace(r, down_revisions=downs.get(r.revision, r.down_revisions))
            for r in plan.revisions
        )
    if heads is not None:
        changes["heads"] = tuple(heads)
    return dataclasses.replace(plan, **changes)
