"""squawk (PostgreSQL migration linter, from the `migration-safety` tool's lockfile) on rendered SQL.

The statements are laid out one per line-block, inside `BEGIN;`/`COMMIT;` when the revision runs
in a transaction (as env.py's per-migration transaction does), so squawk judges transaction rules
the way the database will run them; each finding is mapped back to its statement, and so to the
line of the Alembic op in the revision file.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from db_migrate.runner.alembic_glue.revision_sql import RenderedSql, Statement


class SquawkFailed(Exception):
    pass


@dataclass(frozen=True)
class SquawkFinding:
    rule: str
    message: str
    help: Optional[str]
    statement: Optional[Statement]  # None: on the surrounding BEGIN/COMMIT
    sql_line: int


def _layout(rendered: RenderedSql) -> Tuple[str, List[Tuple[int, int, Statement]]]:
    """The SQL text squawk reads and (first line, last line, statement) of each statement."""
    lines: List[str] = []
    spans = []
    open_ = rendered.in_transaction
    if open_:
        lines.append("BEGIN;")
    for statement in rendered.statements:
        first = len(lines)
        lines.extend(statement.sql.splitlines() or [""])
        spans.append((first, len(lines) - 1, statement))
        word = statement.sql.rstrip(";").strip().upper()
        if word in ("COMMIT", "ROLLBACK"):
            open_ = False
        elif word in ("BEGIN", "START TRANSACTION"):
            open_ = True
    if open_:
        lines.append("COMMIT;")
    return "\n".join(lines) + "\n", spans


def lint(
    squawk: str, rendered: RenderedSql, args: Sequence[str], excluded: Sequence[str]
) -> List[SquawkFinding]:
    if not rendered.statements:
        return []
    text, spans = _layout(rendered)
    argv = [squawk, "--reporter=json", f"--stdin-filepath={rendered.direction}.sql", *args]
    if excluded:
        argv.append("--exclude=" + ",".join(sorted(set(excluded))))
    proc = subprocess.run(argv, input=text, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SquawkFailed(proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}")
    try:
        raw = json.loads(proc.stdout or "[]")
    except ValueError:
        raise SquawkFailed(f"unreadable output: {proc.stdout[:200]!r}") from None
    findings = []
    for item in raw:
        line = int(item.get("line", 0))
        statement = next((s for first, last, s in spans if first <= line <= last), None)
        findings.append(
            SquawkFinding(
                rule=item["rule_name"],
                message=item.get("message", ""),
                help=item.get("help"),
                statement=statement,
                sql_line=line + 1,
            )
        )
    return findings


def unknown_rules(squawk: str, names: Sequence[str]) -> Tuple[str, ...]:
    """The names squawk itself does not know (it refuses them as `--exclude` values)."""
    unknown = []
    for name in names:
        proc = subprocess.run(
            [squawk, f"--exclude={name}", "--stdin-filepath=check.sql"],
            input="",
            capture_output=True,
            text=True,
        )
        if "invalid rule name" in proc.stderr:
            unknown.append(name)
    return tuple(unknown)
