"""Our own migration-safety rules, where squawk has none, and the revision's ignore comments.

Pure: they read the statements a revision's upgrade and downgrade write in offline mode
(`revision_sql.RenderedSql`), so they see what Alembic ops, `op.execute` and `op.get_bind()`
calls really emit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from db_migrate.runner.alembic_glue.revision_sql import RenderedSql, Statement

DOWNGRADE_DROPS_DATA = "downgrade-drops-data"
DATA_CHANGE_WITHOUT_DOWNGRADE = "data-change-without-downgrade"
ENUM_VALUE_USED_IN_TRANSACTION = "enum-value-used-in-transaction"

RULES: Dict[str, Tuple[str, str]] = {  # name -> (level, what to do)
    DOWNGRADE_DROPS_DATA: (
        "warning",
        "db-migrate takes a verified pg_dump backup before every downgrade (.db-backups/): keep it"
        " until the downgrade is confirmed, or make the downgrade keep the data (rename, archive)",
    ),
    DATA_CHANGE_WITHOUT_DOWNGRADE: (
        "warning",
        "Write the inverse data change in downgrade() (or say in an ignore comment why none is needed)",
    ),
    ENUM_VALUE_USED_IN_TRANSACTION: (
        "error",
        "Add the value in `with op.get_context().autocommit_block():` (or in a revision of its own)"
        " before the statements that use it",
    ),
}

# Our rules replace these squawk rules on a downgrade, whose job is to drop what upgrade added.
REPLACED_ON_DOWNGRADE = ("ban-drop-column", "ban-drop-table")

_IDENT = r'(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)'
_NAME = rf"{_IDENT}(?:\.{_IDENT})?"
_DROP_TABLE = re.compile(rf"^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?({_NAME})", re.I)
_ALTER_TABLE = re.compile(
    rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?({_NAME})\s+(.*)", re.I | re.S
)
_DROP_COLUMN = re.compile(rf"\bDROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?({_IDENT})", re.I)
_ADD_COLUMN = re.compile(rf"\bADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?({_IDENT})", re.I)
_DATA_CHANGE = re.compile(
    rf"^(?:WITH\b.*?\b)?(?:UPDATE\s+(?:ONLY\s+)?|INSERT\s+INTO\s+|DELETE\s+FROM\s+(?:ONLY\s+)?"
    rf"|MERGE\s+INTO\s+|TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?)({_NAME})",
    re.I | re.S,
)
_ADD_VALUE = re.compile(
    rf"^ALTER\s+TYPE\s+({_NAME})\s+ADD\s+VALUE\s+(?:IF\s+NOT\s+EXISTS\s+)?'((?:[^']|'')*)'", re.I
)


def _unquote(name: str) -> str:
    return ".".join(part.strip('"') for part in name.split("."))


def _word(statement: Statement) -> str:
    return statement.sql.rstrip(";").strip().upper()


@dataclass(frozen=True)
class RuleFinding:
    rule: str
    statement: Statement
    message: str


def downgrade_drops_data(downgrade: RenderedSql) -> List[RuleFinding]:
    found = []
    for statement in downgrade.statements:
        m = _DROP_TABLE.match(statement.sql)
        if m:
            found.append(
                RuleFinding(
                    DOWNGRADE_DROPS_DATA,
                    statement,
                    f"The downgrade drops table {_unquote(m.group(1))}: every row written since the"
                    " upgrade is lost",
                )
            )
            continue
        m = _ALTER_TABLE.match(statement.sql)
        for column in _DROP_COLUMN.findall(m.group(2)) if m else ():
            if column.upper() in ("CONSTRAINT", "DEFAULT", "NOT", "IDENTITY", "EXPRESSION"):
                continue
            found.append(
                RuleFinding(
                    DOWNGRADE_DROPS_DATA,
                    statement,
                    f"The downgrade drops column {_unquote(m.group(1))}.{_unquote(column)}: the"
                    " values written since the upgrade are lost",
                )
            )
    return found


def _changed_tables(rendered: RenderedSql) -> List[Tuple[str, Statement]]:
    out = []
    for statement in rendered.statements:
        m = _DATA_CHANGE.match(statement.sql.strip())
        if m:
            out.append((_unquote(m.group(1)), statement))
    return out


def _columns(rendered: RenderedSql, pattern: re.Pattern) -> set:
    found = set()
    for statement in rendered.statements:
        m = _ALTER_TABLE.match(statement.sql)
        if m:
            table = _unquote(m.group(1))
            found.update((table, _unquote(c)) for c in pattern.findall(m.group(2)))
    return found


def data_change_without_downgrade(
    upgrade: RenderedSql, downgrade: RenderedSql
) -> List[RuleFinding]:
    """Data changed by the upgrade that the downgrade neither changes back nor drops."""
    if _changed_tables(downgrade):
        return []
    drops = (_DROP_TABLE.match(s.sql) for s in downgrade.statements)
    dropped_tables = {_unquote(m.group(1)) for m in drops if m}
    added = _columns(upgrade, _ADD_COLUMN)
    dropped = _columns(downgrade, _DROP_COLUMN)
    reverted = {table for table, column in added & dropped}
    return [
        RuleFinding(
            DATA_CHANGE_WITHOUT_DOWNGRADE,
            statement,
            f"The upgrade changes the data of {table} and the downgrade does not change it back"
            " (nor drop what holds it): a downgrade leaves the data in its upgraded state",
        )
        for table, statement in _changed_tables(upgrade)
        if table not in dropped_tables and table not in reverted
    ]


def enum_value_used_in_transaction(rendered: RenderedSql) -> List[RuleFinding]:
    """`ALTER TYPE ... ADD VALUE 'v'` then a use of 'v' before the transaction commits."""
    found = []
    in_transaction = rendered.in_transaction
    added: List[Tuple[str, str, Statement]] = []
    for statement in rendered.statements:
        word = _word(statement)
        if word in ("COMMIT", "ROLLBACK"):
            in_transaction, added = False, []
            continue
        if word in ("BEGIN", "START TRANSACTION"):
            in_transaction = True
            continue
        for enum, value, where in added:
            if f"'{value}'" in statement.sql:
                found.append(
                    RuleFinding(
                        ENUM_VALUE_USED_IN_TRANSACTION,
                        statement,
                        f"Uses '{value}', added to enum {enum} on line {where.line} in the same"
                        f" transaction: PostgreSQL refuses it (unsafe use of new value) until the"
                        " ADD VALUE commits",
                    )
                )
        m = _ADD_VALUE.match(statement.sql.strip())
        if m and in_transaction:
            added.append((_unquote(m.group(1)), m.group(2), statement))
    return found


def own_findings(upgrade: RenderedSql, downgrade: RenderedSql) -> List[Tuple[str, RuleFinding]]:
    """(direction, finding) of every rule of ours."""
    return [
        *(("upgrade", f) for f in enum_value_used_in_transaction(upgrade)),
        *(("upgrade", f) for f in data_change_without_downgrade(upgrade, downgrade)),
        *(("downgrade", f) for f in enum_value_used_in_transaction(downgrade)),
        *(("downgrade", f) for f in downgrade_drops_data(downgrade)),
    ]


# ---------------------------------------------------------------------------------------------
# Ignore comments: `# migration-safety: ignore=RULE[,RULE...] reason`
# ---------------------------------------------------------------------------------------------

_DIRECTIVE = re.compile(r"#\s*migration-safety\s*:\s*(?P<rest>.*)$")
_RULE = r"[A-Za-z0-9_\-]+"
_IGNORE = re.compile(rf"^ignore\s*=\s*(?P<rules>{_RULE}(?:\s*,\s*{_RULE})*)(?:\s+(?P<reason>.*))?$")


@dataclass(frozen=True)
class Ignore:
    rule: str
    reason: str
    line: int


@dataclass(frozen=True)
class IgnoreError:
    line: int
    message: str


def read_ignores(text: str) -> Tuple[List[Ignore], List[IgnoreError]]:
    ignores, errors = [], []
    for number, line in enumerate(text.splitlines(), 1):
        m = _DIRECTIVE.search(line)
        if not m:
            continue
        ignore = _IGNORE.match(m.group("rest").strip())
        if not ignore:
            errors.append(IgnoreError(number, "expected `# migration-safety: ignore=RULE reason`"))
            continue
        reason = (ignore.group("reason") or "").strip()
        if not reason:
            errors.append(IgnoreError(number, "an ignore comment must say why (after the rule)"))
            continue
        for rule in (r.strip() for r in ignore.group("rules").split(",")):
            if rule:
                ignores.append(Ignore(rule, reason, number))
    return ignores, errors


def rule_level(rule: str) -> Optional[str]:
    known = RULES.get(rule)
    return known[0] if known else None


def known_rule(rule: str) -> bool:
    return rule in RULES


def not_ours(names: Sequence[str]) -> Tuple[str, ...]:
    return tuple(sorted({n for n in names if n not in RULES}))
