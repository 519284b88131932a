"""The error block of each fault: what happened, in which revision, where the database is now,
and the command that continues.

A fault of the server or the network is never the revision's ("Review the migration file") nor a
bug of ours: the revision did nothing wrong, and the user needs to know what to ask of the server
(or its administrator), and whether they can simply run the same command again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

from db_migrate.core import report
from db_migrate.core.report import Problem
from db_migrate.runner.faults import classify as c
from db_migrate.runner.faults.classify import Symptom
from db_migrate.runner.faults.scene import Scene
from db_migrate.runner.faults.state import StateAfter
from db_migrate.runner.faults.watch import ServerWatch
from db_migrate.runner.migration.retry_policy import lock_timeout_limit, lock_timeout_title


@dataclass(frozen=True)
class Story:
    """One fault's own part of the block: its title, what happened, what to do first."""

    title: str
    what: Tuple[str, ...]
    actions: Tuple[str, ...] = ()
    footer: str = "This is a fault of the server or the network, not of the revision."
    last: Tuple[str, ...] = ()  # actions after the command that continues


def _victim(watch: Optional[ServerWatch]) -> str:
    """Which of our sessions the server ended, with its pid (what the server's log names)."""
    role = "the migration's session"
    if watch is not None and watch.lock_session_error is not None:
        role = "the session holding the migration lock"
    pids = [pid for pid, r in (watch.sessions.items() if watch is not None else ()) if r == role]
    return f"{role} (pid {pids[-1]})" if pids else role


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z") if hasattr(moment, "strftime") else str(moment)


def _terminated(seen: Symptom, scene: Scene, watch, after) -> Story:
    if seen.sqlstate in (c.IDLE_IN_TRANSACTION_TIMEOUT, c.IDLE_SESSION_TIMEOUT):
        return Story(
            "Connection terminated by the server's idle timeout",
            (f'PostgreSQL ended {_victim(watch)} {scene.activity}: "{seen.message}"',),
            ("Ask for idle_session_timeout / idle_in_transaction_session_timeout to be raised",),
        )
    return Story(
        "Connection terminated by an administrator",
        (
            f'PostgreSQL ended {_victim(watch)} {scene.activity}: "{seen.message}"',
            "The server kept running (it was not restarted): another session ended this one with"
            " pg_terminate_backend (an administrator, or a tool that ends long-running sessions).",
        ),
        (
            f"Find out who ends sessions on {scene.server} (a DBA, a query killer, a pooler's"
            " maximum lifetime) and migrate when the session is left alone",
        ),
    )


def _restarted(seen: Symptom, scene: Scene, watch, after) -> Story:
    return Story(
        "PostgreSQL restarted during the migration",
        (
            f'the server at {scene.server} shut down and started again {scene.activity}: "{seen.message}"',
            f"It is up again (started at {_when(after.started_at)}); a shutdown rolls back every"
            " open transaction.",
        ),
        ("If restarts are planned (maintenance, failover), migrate outside those windows",),
    )


def _start_again(scene: Scene) -> str:
    if scene.dev_server:
        return "Start the development server again: pants db-dev-server --action=start"
    return f"Start the server at {scene.server} again (or wait for it to be back)"


def _shut_down(seen: Symptom, scene: Scene, watch, after) -> Story:
    return Story(
        "PostgreSQL shut down during the migration",
        (
            f"the server at {scene.server} shut down (a smart or fast shutdown) {scene.activity}:"
            f' "{seen.message}"',
        ),
        (_start_again(scene),),
    )


# Commits that returned before their WAL was written are not kept by crash recovery.
_DURABLE = " (on a server with synchronous_commit = off, not even the last few commits)"


def _stopped_immediately(seen: Symptom, scene: Scene, watch, after) -> Story:
    return Story(
        "PostgreSQL shut down immediately during the migration",
        (
            f"the server at {scene.server} stopped all its processes at once {scene.activity}:"
            ' "terminating connection due to immediate shutdown command"',
            "An immediate shutdown (pg_ctl stop -m immediate) is like a crash: the next start runs"
            f" crash recovery, which keeps only what had committed{_DURABLE}.",
        ),
        (_start_again(scene),),
    )


def _crashed(seen: Symptom, scene: Scene, watch, after) -> Story:
    return Story(
        "PostgreSQL crashed during the migration",
        (
            f"a server process at {scene.server} crashed {scene.activity}, and the server ended"
            f' every session: "{seen.message}"',
            "PostgreSQL restarts after a crash; crash recovery keeps only what had committed"
            f"{_DURABLE}. Its log says which process crashed, and why.",
        ),
        ("Read the server's log around the crash before migrating again",),
    )


def _lost(seen: Symptom, scene: Scene, watch, after) -> Story:
    cause = (
        "The server is up and was not restarted: something in between (a proxy, a pooler, a load"
        " balancer, a firewall) closed the connection, or the session's process was killed."
        if after.reachable
        else "The server does not answer now."
    )
    return Story(
        "Lost the connection to the database",
        (
            f"the connection to {scene.server} closed {scene.activity}, without a word from the"
            f' server: "{seen.message}"',
            cause,
        ),
        (f"Check the server's log and what stands between here and {scene.server}",),
    )


def _silent(seen: Symptom, scene: Scene, watch, after) -> Story:
    quiet = watch.silent_for if watch is not None and watch.silent_for else scene.network_timeout
    host, _, port = scene.server.rpartition(":")
    return Story(
        f"No answer from the database for {scene.network_timeout:g} s",
        (
            f"{scene.server} stopped answering {scene.activity}: no error, no closed connection,"
            f" nothing for {quiet:.0f} s (the network went silent, or the server hangs).",
            f"pants db-migrate gives up after [db-migrations].network_timeout"
            f" ({scene.network_timeout:g} s) rather than wait for ever with the migration's locks held.",
            "On the server, the migration's sessions may still be open, with their locks and their"
            " uncommitted work, until PostgreSQL notices they are gone; it rolls that work back then.",
        ),
        (
            f"Check the way to the server: pg_isready -h {host} -p {port} -t 10",
            "When it answers, look for sessions of this run and end them: SELECT pid, state,"
            " xact_start FROM pg_stat_activity WHERE application_name LIKE"
            f" 'pants db-migrate ({scene.component})%'; then SELECT pg_terminate_backend(pid);",
        ),
        last=(
            "On a slow or lossy network, allow longer: [db-migrations].network_timeout in pants.toml",
        ),
    )


_LIMIT = "The revision did not fail by itself: a limit set for migrations was reached."


def _statement_timeout(seen: Symptom, scene: Scene, watch, after) -> Story:
    limit = scene.statement_timeout or "its statement_timeout"
    return Story(
        f"Migration {scene.revision or scene.component} ran longer than statement_timeout ({limit})",
        (
            f"a statement ran longer than the component's statement_timeout ({limit}) {scene.activity},"
            f' and PostgreSQL cancelled it: "{seen.message}"',
        ),
        (
            f'If the work needs longer, raise statement_timeout (or set it to "0") in {scene.component}\'s'
            f" alembic_migrations target ({scene.selector})",
            "Or split the data migration into smaller statements (batches)",
        ),
        footer=_LIMIT,
    )


def _canceled(seen: Symptom, scene: Scene, watch, after) -> Story:
    return Story(
        "A migration statement was cancelled",
        (
            f"another session cancelled the migration's statement {scene.activity} (pg_cancel_backend:"
            f' an administrator, or a tool that cancels long queries): "{seen.message}"',
        ),
        (f"Find out who cancels queries on {scene.server}, and migrate when it is left alone",),
    )


def _lock_timeout(seen: Symptom, scene: Scene, watch, after) -> Story:
    limit = lock_timeout_limit(scene.lock_timeout)
    return Story(
        lock_timeout_title(scene.revision or scene.component, scene.lock_timeout),
        (
            f"a statement waited longer than the component's lock_timeout ({limit}) for a lock"
            f' another session holds {scene.activity}, and PostgreSQL cancelled it: "{seen.message}"',
            "The timeout is what keeps a migration from queueing every other query on the table"
            " behind it.",
        ),
        (
            "See who holds locks, and since when: SELECT a.pid, a.application_name, a.state,"
            " a.xact_start, l.relation::regclass, l.mode FROM pg_locks l JOIN pg_stat_activity a"
            " USING (pid) WHERE l.granted AND l.relation IS NOT NULL AND a.pid <> pg_backend_pid();",
            "Migrate when that transaction has ended (a quiet moment for the table)",
            f"Raising lock_timeout ({scene.selector}) lets every query on the table queue that long"
            " behind the migration",
        ),
        footer=_LIMIT,
    )


_STORIES: Dict[str, Callable[..., Story]] = {
    c.SESSION_TERMINATED: _terminated,
    c.SERVER_RESTARTED: _restarted,
    c.SERVER_SHUT_DOWN: _shut_down,
    c.SERVER_STOPPED_IMMEDIATELY: _stopped_immediately,
    c.SERVER_CRASHED: _crashed,
    c.CONNECTION_LOST: _lost,
    c.NETWORK_SILENT: _silent,
    c.STATEMENT_TIMEOUT: _statement_timeout,
    c.STATEMENT_CANCELED: _canceled,
    c.LOCK_TIMEOUT: _lock_timeout,
}


def _state_lines(scene: Scene, after: StateAfter) -> Tuple[str, ...]:
    """Where the database is now, as read back, or why that is unknown and what was last known."""
    if after.known:
        heads = report.describe_heads(after.heads or ())
        kept = scene.revision and scene.revision in (after.heads or ())
        fate = (
            f"{scene.revision} committed before the connection went."
            if kept
            else f"{scene.revision} is not applied: its changes were rolled back."
            if scene.revision
            else ""
        )
        lines = [f"The database is at {heads} (read back {after.how}).", fate]
        if scene.with_it and not set(scene.with_it) & set(after.heads or ()):
            lines.append(
                f"The run was one transaction: the {len(scene.with_it)} revision(s) it applied"
                f" before {scene.revision} were rolled back with it."
            )
        return tuple(line for line in lines if line)
    lines = [f"The database state is unknown: the server could not be reached ({after.how})."]
    if scene.last_known:
        lines.append(f"Last known: {scene.last_known}.")
    return tuple(lines)


def fault_problem(
    fault: str, seen: Symptom, scene: Scene, after: StateAfter, watch: Optional[ServerWatch]
) -> Problem:
    story = _STORIES[fault](seen, scene, watch, after)
    first, *rest = story.what
    details = (f"{scene.component}: {first}", *rest, *_state_lines(scene, after))
    go_on = (
        ()
        if after.known
        else (f"When it answers, see where the database is: {scene.status_command}",)
    )
    continuing = (f"Continue: {scene.continue_command}",) if scene.continue_command else ()
    return Problem(
        title=story.title,
        details=details,
        actions=(*story.actions, *go_on, *continuing, *story.last),
        footer=story.footer,
        kind=fault,
    )


def fault_without_evidence(component: str, selector: str, seen: Symptom) -> Problem:
    """A fault outside a migration's run (no watch, no state read back): said as such."""
    cut = "ended the connection" if seen.connection else "cancelled the statement"
    return Problem(
        title="Lost the connection to the database"
        if seen.connection
        else "A database statement was cancelled",
        details=(
            f'{component}: "{seen.message}"',
            f"The server (or something between it and us) {cut}; the database's state was not"
            " read back.",
        ),
        actions=(
            f"See where the database is: {report.goal('db-status', selector)}",
            "Run the same command again once the database answers",
        ),
        footer="This is a fault of the server or the network, not of your code.",
        kind=c.CONNECTION_LOST if seen.connection else c.STATEMENT_CANCELED,
    )
