"""The text the user reads: the success and error blocks of docs/specification.md.

Pure and dependency-free (CPython 3.9 and 3.11): Pants renders static pre-flight errors with it and
the runner renders database errors and results with it, so both look the same.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence, Tuple
from urllib.parse import quote

SUCCESS = "✅"
FAILURE = "❌"
WARNING = "⚠️"

# The password of a URL (up to the last `@` of the word, so a password holding `@` is covered).
_URL_PASSWORD = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s]*):\S*@")
# A libpq conninfo's `password=...` (quoted or not).
_CONNINFO_PASSWORD = re.compile(r"(?P<key>\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|\S+)", re.I)
_SECRETS: set = set()


def register_secret(*secrets: Optional[str]) -> None:
    """Passwords this process knows: `mask` removes them from every message from now on."""
    _SECRETS.update(s for s in secrets if s)


def password_secrets(password: Optional[str], *names: Optional[str]) -> Tuple[str, ...]:
    """What `mask` must remove from any text for a URL with this password: the password and its
    URL-quoted forms. None when it is also one of `names` (the URL's user, host or database),
    which messages show anyway: replacing it everywhere would hide the paths and names that
    contain it (`services/billing/alembic.ini`), not a secret. Where it stands as a URL's or a
    conninfo's password, `mask`'s patterns still remove it."""
    if not password or password in names:
        return ()
    return tuple({password, quote(password, safe=""), quote(password)})


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """Text safe to print: known passwords, URL passwords and conninfo passwords as `***`."""
    for secret in sorted({*secrets, *_SECRETS}, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:***@", text)
    return _CONNINFO_PASSWORD.sub(lambda m: f"{m.group('key')}***", text)


def first_line(error: BaseException) -> str:
    """What an error says, in one line for a Problem's details (its type when it says nothing)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


@dataclass(frozen=True)
class Problem:
    """One error in the specification's format: title, details, numbered actions, a pointer."""

    title: str
    details: Tuple[str, ...]
    actions: Tuple[str, ...] = ()
    related: Optional[str] = None
    footer: Optional[str] = None
    kind: str = "error"

    def render(self) -> str:
        lines = [f"{FAILURE} Error: {self.title}", ""]
        first, *rest = self.details or ("",)
        lines.append(f"Details: {first}")
        lines.extend(rest)
        if self.actions:
            lines += ["", "Recommended actions:"]
            lines += [f"{i}. {action}" for i, action in enumerate(self.actions, 1)]
        if self.footer:
            lines += ["", self.footer]
        if self.related:
            lines += ["", f"Related goal: {self.related}"]
        return mask("\n".join(lines))


class ProblemError(Exception):
    """Raised with a `Problem` so callers can render it and exit non-zero without a traceback."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.title)
        self.problem = problem


LISTED = 10  # revisions named one by one in a message; the JSON report has every one


def first_few(lines: Sequence[str], more: str, limit: int = LISTED) -> Tuple[str, ...]:
    """The first `limit` lines, then `more` with `{n}` the count of the rest: after a mass edit
    (a formatter run over versions/, a database plain Alembic migrated for years) thousands of
    lines would bury the state and the next step."""
    if len(lines) <= limit:
        return tuple(lines)
    return (*lines[:limit], more.format(n=len(lines) - limit))


def git_paths(paths: Sequence[str]) -> str:
    """The paths for `git log -p -- ...`: each file while few, else the folder they share (a
    command line naming thousands of files is one nobody can run)."""
    if len(paths) <= 3:
        return " ".join(paths)
    return posixpath.commonpath(paths) or "."


def goal(name: str, selector: str, *flags: str) -> str:
    return " ".join(["pants", name, *flags, selector])


# ---------------------------------------------------------------------------------------------
# The error catalogue
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadInfo:
    revision: str
    path: str
    message: str


def multiple_heads(component: str, selector: str, heads: Sequence[HeadInfo]) -> Problem:
    return Problem(
        title="Multiple heads detected",
        details=(
            f"Cannot proceed with migration when heads are diverged ({component} has {len(heads)} heads)",
            *(f"  - {h.revision}: {h.message} ({h.path})" for h in heads),
        ),
        actions=(
            f"Check diverged heads: {goal('db-status', selector)}",
            f"Resolve heads: {goal('db-rebase', selector)}",
            f"Retry migration: {goal('db-migrate', selector)}",
        ),
        related=goal("db-rebase", selector),
        kind="multiple_heads",
    )


def cannot_locate_revision(
    revision: str,
    component: str,
    config: str,
    selector: str,
    suggestions: Iterable[str] = (),
    why: str = "",
) -> Problem:
    suggestions = tuple(suggestions)
    details = [why or f"Revision not found in the migration history of {component}"]
    if suggestions:
        details.append("Closest revisions: " + ", ".join(suggestions))
    return Problem(
        title=f"Cannot locate revision '{revision}'",
        details=tuple(details),
        actions=(
            f"List available revisions:\n   {goal('db-status', selector, '--history')}",
            "Check for typos in revision ID",
            f"Ensure you're using correct component config ({config} for {component})",
        ),
        footer=f"Use {goal('db-status', selector)} to see current and head revisions.",
        kind="cannot_locate_revision",
    )


def migration_file_missing(
    component: str, selector: str, missing: str, referrers: Sequence[str]
) -> Problem:
    return Problem(
        title="Migration file not found",
        details=(
            f"Revision '{missing}' of {component} is referenced but no file defines it",
            *(f"  referenced by {path}" for path in referrers),
        ),
        actions=(
            "Ensure you pulled latest code: git pull",
            "Check if migration was committed",
            "Verify correct branch",
            f"Generate migration if needed: {goal('db-create-migration', selector, '--message=...')}",
        ),
        kind="migration_file_missing",
    )


@dataclass(frozen=True)
class Endpoint:
    """The database a component tried to reach, and where the user configured it."""

    host: str
    port: int
    user: Optional[str]
    database: str
    origin: str  # what to edit: `MANAGER_DB_URL`, or `sqlalchemy.url in alembic.ini`
    masked_url: str

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


# Why a connection failed (`cause` of `cannot_connect`), as the runner classifies it.
REFUSED = "refused"
UNKNOWN_HOST = "unknown_host"
BAD_PASSWORD = "bad_password"
NO_PASSWORD = "no_password"
MISSING_DATABASE = "missing_database"
MISSING_ROLE = "missing_role"
SSL = "ssl"
TIMEOUT = "timeout"
OTHER = "other"


def _account_actions(cause: str, at: Endpoint) -> Tuple[str, ...]:
    """The server answered and refused the account, or has no such database: fix the URL."""
    user = at.user or "the URL's user"
    if cause == BAD_PASSWORD:
        return (
            f"Check the password of user '{user}' in {at.origin}",
            "URL-encode a password holding @ : / % # ? or spaces (e.g. @ as %40)",
            f'Try it by hand: psql "postgresql://{at.user or ""}@{at.where}/{at.database}" (asks for the password)',
        )
    if cause == NO_PASSWORD:
        return (
            f"Give the password in {at.origin} (postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB)",
            "Or put it in ~/.pgpass (host:port:database:user:password, mode 0600)",
        )
    if cause == MISSING_DATABASE:
        return (
            f"Create it: createdb -h {at.host} -p {at.port} -U {at.user or 'postgres'} {at.database}",
            f"Or name an existing database in {at.origin}",
        )
    if cause == MISSING_ROLE:
        return (
            f"Create the role: psql -h {at.host} -p {at.port} -U postgres"
            f" -c \"CREATE ROLE {at.user} LOGIN PASSWORD '...'\"",
            f"Or name an existing user in {at.origin}",
        )
    return ()


def _connect_actions(cause: str, component: str, at: Endpoint, dev_server: bool) -> Tuple[str, ...]:
    """What to do about this failure, and only this one: a wrong password needs no server start."""
    if cause in (BAD_PASSWORD, NO_PASSWORD, MISSING_DATABASE, MISSING_ROLE):
        return _account_actions(cause, at)
    if cause == UNKNOWN_HOST:
        return (
            f"Check the host name in {at.origin}: '{at.host}' does not resolve",
            f"Check DNS (or /etc/hosts) on this machine: getent hosts {at.host}",
        )
    if cause == SSL:
        return (
            f"Check sslmode in {at.origin}: `require`, `verify-ca` and `verify-full` need a server"
            " with SSL on; `prefer` uses SSL only where the server offers it",
            "For verify-ca/verify-full, name the CA certificate: sslrootcert=PATH in the URL's query",
        )
    if cause == TIMEOUT:
        return (
            f"Check {at.where} is the right address and reachable from here (firewall, VPN):"
            f" pg_isready -h {at.host} -p {at.port} -t 10",
            "On a slow network, wait longer: [db-migrations].connect_timeout in pants.toml (seconds)",
        )
    start = (
        "Start the development database: pants db-dev-server --action=start"
        if dev_server
        else f"Start the database server, or point {component} at a running one with {at.origin}"
    )
    if cause == REFUSED:
        return (
            f"Check PostgreSQL is running: pg_isready -h {at.host} -p {at.port}",
            start,
            f"Check the host and port in {at.origin}",
        )
    return (
        f"Check PostgreSQL is running: pg_isready -h {at.host} -p {at.port}",
        f"Verify the database configuration: {at.origin}",
        start,
    )


def cannot_connect(
    component: str, at: Endpoint, cause: str, reason: str, dev_server: bool = False
) -> Problem:
    """The specification's block, with the actions that fit `cause` (one of the constants above)."""
    return Problem(
        title="Cannot connect to database",
        details=(reason, f"Database URL: {at.masked_url}"),
        actions=_connect_actions(cause, component, at, dev_server),
        related="pants db-dev-server" if dev_server and cause in (REFUSED, OTHER) else None,
        kind="cannot_connect",
    )


def foreign_key_violation(
    component: str, selector: str, revision: str, path: str, db_error: str
) -> Problem:
    return Problem(
        title="Foreign key constraint violation",
        details=(
            f"Cannot add/modify column due to existing data (revision {revision}, {path})",
            f"Database said: {db_error}",
        ),
        actions=(
            "Check migration script for data migration logic",
            "Manually fix data integrity issues",
            "Consider modifying migration to handle existing data",
            f"Rollback: {goal('db-migrate', selector, '--direction=downgrade', '--target=-1')}",
        ),
        footer="This usually requires manual intervention. Review migration file.",
        kind="foreign_key_violation",
    )


def revision_failed(
    component: str, selector: str, revision: str, path: str, db_error: str
) -> Problem:
    return Problem(
        title=f"Migration {revision} failed",
        details=(
            f"{path} raised an error; its changes were rolled back",
            f"Database said: {db_error}",
        ),
        actions=(
            f"Review the migration file: {path}",
            f"Check the database state: {goal('db-status', selector)}",
            f"Retry after fixing it: {goal('db-migrate', selector)}",
        ),
        footer="Revisions applied before it stay applied (one transaction per revision).",
        kind="revision_failed",
    )


def revision_file_problem(path: str, line: int, message: str) -> Problem:
    return Problem(
        title="Cannot parse revision file",
        details=(f"{path}:{line}: {message}" if line else f"{path}: {message}",),
        actions=(
            f"Fix the file: {path}" + (f" (line {line})" if line else ""),
            "Check it defines revision = '<id>' and down_revision at module level",
        ),
        kind="unparsable_revision",
    )


# ---------------------------------------------------------------------------------------------
# Success
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One applied (or reverted) revision: `old → new: message`."""

    old: str
    new: str
    message: str
    seconds: float = 0.0
    revision: str = ""


@dataclass(frozen=True)
class MigrationResult:
    component: str
    direction: str
    target: str
    steps: Tuple[Step, ...]
    new_status: str
    backup: Optional[str] = None
    restore_command: Optional[str] = None
    notes: Tuple[str, ...] = field(default=())

    def render(self) -> str:
        upgrade = self.direction == "upgrade"
        lines = [
            f"{SUCCESS} Migration successful",
            "",
            f"Component: {self.component}",
            f"Direction: {self.direction}",
            f"Target: {self.target}",
            "",
            "Applied migrations:" if upgrade else "Reverted migrations:",
        ]
        for step in self.steps:
            suffix = "" if upgrade else " (reverted)"
            lines.append(f"  - {step.old} → {step.new}: {step.message}{suffix}")
        lines += ["", f"New status: {self.new_status}"]
        if self.backup:
            lines += ["", f"Backup: {self.backup}"]
            if self.restore_command:
                lines.append(f"Restore with: {self.restore_command}")
        lines.extend(["", *self.notes] if self.notes else [])
        if upgrade:
            lines += [
                "",
                "Next steps:",
                "- Verify application functionality",
                "- Restart affected services if needed",
            ]
        else:
            lines += [
                "",
                "Warning: Downgrade may have removed data or features.",
                "Verify application compatibility.",
            ]
        return "\n".join(lines)


@dataclass(frozen=True)
class VerificationResult:
    """`db-verify`'s success block: what was checked, what was skipped, and how long it took."""

    component: str
    revisions: int
    head: str
    checked: Tuple[str, ...]
    skipped: Tuple[str, ...] = ()
    seconds: float = 0.0
    timings: Tuple[Tuple[str, float], ...] = ()

    def render(self) -> str:
        lines = [
            f"{SUCCESS} Verification successful",
            "",
            f"Component: {self.component}",
            f"Revisions: {self.revisions} ({BASE} → {self.head})",
            "",
            "Checked:",
            *(f"  - {item}" for item in self.checked),
            "",
            "Skipped:",
            *((f"  - {item}" for item in self.skipped) if self.skipped else ("  - nothing",)),
            "",
            f"Time: {duration(self.seconds)}"
            + (
                " (" + ", ".join(f"{name} {duration(s)}" for name, s in self.timings) + ")"
                if self.timings
                else ""
            ),
        ]
        return "\n".join(lines)


def verify_revision_unknown(
    component: str,
    config: str,
    selector: str,
    setting: str,
    revision: str,
    suggestions: Iterable[str] = (),
    why: str = "",
) -> Problem:
    """A `verify_skip`/`verify_min_revision`/`--skip` entry that names no revision of the component."""
    problem = cannot_locate_revision(
        revision,
        component,
        config,
        selector,
        suggestions,
        why=why
        or f"{setting} names '{revision}', which is not in the migration history of {component}",
    )
    return Problem(
        title=problem.title,
        details=problem.details,
        actions=(f"Fix {setting} ({selector})", *problem.actions),
        footer=problem.footer,
        kind="verify_revision_unknown",
    )


def up_to_date(component: str, revision: str) -> str:
    return f"{SUCCESS} {component} is up-to-date at {revision}"


def already_at(component: str, target: str, revision: str) -> str:
    return f"{SUCCESS} {component} is already at {target} ({revision})"


BASE = "<base>"


def duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def describe_heads(heads: Sequence[str]) -> str:
    return ", ".join(heads) if heads else BASE
