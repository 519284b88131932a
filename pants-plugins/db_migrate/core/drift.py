"""Drift: how a live database differs from what its scripts give at the revision it records.

Pure (no database, no Pants, no Alembic), so the goal compares in pantsd and the rules are
unit-tested on plain rows. Both sides are catalog rows `[kind, parent, name, description]` as
the runner's catalog reader writes them (`runner/verify/schema.py`): the expected side from a
cached replay on a throwaway PostgreSQL, the live side read-only from the user's database.

What counts: objects in the component's schema(s) (the version table's schema and every schema
the replay creates objects in) and extensions. What does not: other schemas (the checksum
ledger's among them), Alembic version tables (the component's own and other components'), and
objects another component's scripts create (`others`: a database several components share).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from db_migrate.core import report

Key = Tuple[str, str, str]  # (kind, parent, name)
Row = Sequence[str]  # kind, parent, name, description

EXTRA, MISSING, CHANGED = "extra", "missing", "changed"
# The key of db-status's runner outcome holding the live catalog (`--drift`): `objects` (rows as
# below) and `version_tables` (every Alembic version table there -> its revisions).
LIVE_CATALOG = "live_catalog"
# Reading order of the catalog's objects: also the order `runner/verify/schema.py` diffs in.
KINDS = (
    "schema",
    "extension",
    "enum",
    "function",
    "sequence",
    "table",
    "column",
    "constraint",
    "index",
    "trigger",
)
TABLE_PARTS = ("column", "constraint", "index", "trigger")
NONE = "(none)"


@dataclass(frozen=True)
class Difference:
    kind: str
    parent: str  # the table of a column, constraint, index or trigger (or an owned sequence)
    name: str
    change: str  # extra | missing | changed
    expected: Optional[str]  # what the scripts give (None: nothing)
    actual: Optional[str]  # what the database has (None: nothing)
    hidden: Tuple[Tuple[str, int], ...] = ()  # parts folded into an extra or missing table

    def to_dict(self) -> Dict[str, Any]:
        return {
            "object": self.kind,
            "table": self.parent or None,
            "name": self.name,
            "change": self.change,
            "expected": self.expected,
            "actual": self.actual,
        }


def schema_of(kind: str, parent: str, name: str) -> Optional[str]:
    """The schema an object lives in (None: database-wide, an extension); names drop `public.`."""
    if kind == "extension":
        return None
    if kind == "schema":
        return name
    qualified = parent if kind in TABLE_PARTS else name.split("(", 1)[0]
    schema, dot, _ = qualified.partition(".")
    return schema if dot else "public"


def component_schemas(expected: Iterable[Row], version_table: str) -> Tuple[str, ...]:
    """The version table's schema and every schema the replay put an object in."""
    schema, dot, _ = version_table.rpartition(".")
    found = {schema if dot and schema else "public"}
    for kind, parent, name, _ in expected:
        where = schema_of(kind, parent, name)
        if where is not None:
            found.add(where)
    return tuple(sorted(found))


def _bare(table: str) -> str:
    return table[len("public.") :] if table.startswith("public.") else table


def _counted(
    rows: Iterable[Row], schemas: Set[str], version_tables: Set[str], others: Set[Key]
) -> Dict[Key, str]:
    """The objects of `rows` that drift detection looks at."""
    out: Dict[Key, str] = {}
    for kind, parent, name, description in rows:
        key = (kind, parent, name)
        where = schema_of(kind, parent, name)
        if where is not None and where not in schemas:
            continue
        if (kind == "table" and name in version_tables) or parent in version_tables:
            continue
        out[key] = description
    return {k: v for k, v in out.items() if k not in others}


@dataclass(frozen=True)
class Drift:
    """Every difference between the expected and the live schema, in reading order."""

    schemas: Tuple[str, ...]
    differences: Tuple[Difference, ...]

    def __bool__(self) -> bool:
        return bool(self.differences)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "schemas": list(self.schemas),
            "differences": [d.to_dict() for d in self.differences],
        }


def compare(
    expected: Iterable[Row],
    live: Iterable[Row],
    *,
    version_table: str,
    version_tables: Iterable[str] = (),
    others: Iterable[Row] = (),
) -> Drift:
    """How `live` differs from `expected`, within the component's schemas.

    `version_tables`: every Alembic version table in the database (never drift); `others`: the
    expected rows of the other components sharing the database (their objects are not drift,
    unless this component's scripts create the same object).
    """
    expected = list(expected)
    schemas = component_schemas(expected, version_table)
    tables = {_bare(t) for t in (*version_tables, version_table)}
    owned = {(r[0], r[1], r[2]) for r in others}
    exp = _counted(expected, set(schemas), tables, set())
    act = _counted(live, set(schemas), tables, owned - set(exp))
    differences: List[Difference] = []
    for key in _ordered(exp.keys() | act.keys()):
        before, after = exp.get(key), act.get(key)
        if before == after:
            continue
        change = CHANGED if before is not None and after is not None else EXTRA
        change = MISSING if after is None else change
        differences.append(Difference(*key, change, before, after))
    return Drift(schemas, _folded(differences))


def _ordered(keys: Iterable[Key]) -> List[Key]:
    def rank(key: Key) -> tuple:
        """Database-wide objects first, then each table followed by its parts."""
        kind = KINDS.index(key[0]) if key[0] in KINDS else len(KINDS)
        if key[0] in (*TABLE_PARTS, "table"):
            return (1, key[1] or key[2], kind, key[2])
        return (0, "", kind, key[2])

    return sorted(keys, key=rank)


def _folded(differences: Sequence[Difference]) -> Tuple[Difference, ...]:
    """A table that is extra or missing as a whole is one difference, not one per column."""
    whole = {(d.name, d.change) for d in differences if d.kind == "table" and d.change != CHANGED}
    counts: Dict[Tuple[str, str], Dict[str, int]] = {}
    kept = []
    for d in differences:
        if d.kind in (*TABLE_PARTS, "sequence") and (d.parent, d.change) in whole:
            part = counts.setdefault((d.parent, d.change), {})
            part[d.kind] = part.get(d.kind, 0) + 1
            continue
        kept.append(d)
    return tuple(
        Difference(
            d.kind,
            d.parent,
            d.name,
            d.change,
            d.expected,
            d.actual,
            tuple(sorted(counts.get((d.name, d.change), {}).items())),
        )
        if d.kind == "table"
        else d
        for d in kept
    )


# ---------------------------------------------------------------------------------------------
# Words


def _count(n: int, kind: str) -> str:
    if n == 1:
        return f"1 {kind}"
    return f"{n} {kind}es" if kind == "index" else f"{n} {kind}s"


def _side(d: Difference, text: Optional[str]) -> str:
    if text is None:
        return NONE
    if d.hidden:
        return f"{text} ({', '.join(_count(n, kind) for kind, n in d.hidden)})"
    return text


def _heading(d: Difference) -> str:
    verb = {EXTRA: "not in the scripts", MISSING: "missing from the database", CHANGED: "changed"}
    return f"{d.kind} {d.name}: {verb[d.change]}"


def render(drift: Drift, revision: str, database: str) -> List[str]:
    """The differences grouped by object (a table's parts under the table), each with what the
    scripts expect and what the database has."""
    where = ", ".join(drift.schemas)
    if not drift:
        return [
            f"Drift: {report.SUCCESS} none: the database matches the scripts at {revision}"
            f" (schema{'s' if len(drift.schemas) != 1 else ''} {where})"
        ]
    n = len(drift.differences)
    lines = [
        f"Drift: {report.WARNING} {n} difference{'s' if n != 1 else ''} between {database} and"
        f" what the scripts give at {revision} (schema{'s' if len(drift.schemas) != 1 else ''}"
        f" {where}):"
    ]
    table = None
    for d in drift.differences:
        indent = "  "
        if d.kind in TABLE_PARTS:
            if d.parent != table:
                lines.append(f"  table {d.parent}:")
                table = d.parent
            indent = "    "
        else:
            table = d.name if d.kind == "table" else None
        lines.append(f"{indent}- {_heading(d)}")
        lines.append(f"{indent}    scripts:  {_side(d, d.expected)}")
        lines.append(f"{indent}    database: {_side(d, d.actual)}")
    return lines
