"""Pure decisions of `db-rebase`: which revisions are whose, merge or rebase, and the file edits.

No files, no git, no database: the effects live in `rebase.py`. What a team does with diverged
heads:
- every head's own revisions are on the shared branch (`--base-ref`): they are released, never
  edited; an empty merge revision joins the heads;
- exactly one head's own revisions are all missing from the shared branch: that is your work in
  progress; its first revision is re-pointed at the other head (ids kept), so the history is a line.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass
from typing import Collection, Dict, List, Optional, Sequence, Tuple

from db_migrate.core.revision_file import Revision, RevisionFileError, parse_revision_file

AUTO = "auto"
MERGE = "merge"
REBASE = "rebase"


@dataclass(frozen=True)
class Branch:
    """What one head adds to the history: the revisions no other head reaches."""

    head: str
    own: Tuple[str, ...]  # base → head order
    roots: Tuple[str, ...]  # own revisions whose parents are not own (where the branch starts)
    forks: Tuple[str, ...]  # the parents of the roots outside the branch (the common ancestors)
    paths: Tuple[str, ...]  # the files of `own`
    on_base: Optional[
        bool
    ] = None  # all own files in the base ref / none of them / None: mixed or unknown

    def describe(self) -> str:
        n = len(self.own)
        return f"{self.head}'s branch ({n} revision{'s' if n != 1 else ''}: {', '.join(self.own)})"


def _ancestors(by_id: Dict[str, Revision], start: str) -> set:
    seen, stack = set(), [start]
    while stack:
        current = stack.pop()
        if current in seen or current not in by_id:
            continue
        seen.add(current)
        stack.extend(by_id[current].down_revisions)
    return seen


def split_branches(
    ordered: Sequence[Revision],
    heads: Sequence[str],
    files_on_base: Optional[Collection[str]] = None,
) -> Tuple[Branch, ...]:
    """One `Branch` per head; `ordered` is every revision base → head; `files_on_base` the paths in the base ref."""
    by_id = {r.revision: r for r in ordered}
    reach = {h: _ancestors(by_id, h) for h in heads}
    branches = []
    for head in heads:
        others = set().union(*(reach[h] for h in heads if h != head))
        own = [r for r in ordered if r.revision in reach[head] and r.revision not in others]
        own_ids = {r.revision for r in own}
        roots = [
            r
            for r in own
            if not r.down_revisions or any(d not in own_ids for d in r.down_revisions)
        ]
        forks = tuple(dict.fromkeys(d for r in roots for d in r.down_revisions if d not in own_ids))
        on_base: Optional[bool] = None
        if files_on_base is not None:
            present = [r.path in files_on_base for r in own]
            on_base = True if all(present) else False if not any(present) else None
        branches.append(
            Branch(
                head=head,
                own=tuple(r.revision for r in own),
                roots=tuple(r.revision for r in roots),
                forks=forks,
                paths=tuple(r.path for r in own),
                on_base=on_base,
            )
        )
    return tuple(branches)


@dataclass(frozen=True)
class StrategyChoice:
    strategy: str  # merge | rebase
    reason: str
    branch: Optional[Branch] = None  # rebase: the branch that moves
    onto: Optional[str] = None  # rebase: the head it moves onto


class StrategyRefused(Exception):
    """The requested strategy cannot apply here; `why` says so in words."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def choose_strategy(
    requested: str, branches: Sequence[Branch], base_ref: str, base_ref_error: Optional[str] = None
) -> StrategyChoice:
    """Merge or rebase, and why, by the rule in the module docstring."""
    if requested == MERGE:
        return StrategyChoice(
            MERGE, "--strategy=merge: an empty merge revision joins the heads; no file is edited"
        )
    if base_ref_error is not None:
        raise StrategyRefused(f"Cannot tell released revisions from your own: {base_ref_error}")
    local = [b for b in branches if b.on_base is False]
    shared = [b for b in branches if b.on_base is True]
    mixed = [b for b in branches if b.on_base is None]
    if len(branches) == 2 and len(local) == 1 and len(shared) == 1:
        mine, theirs = local[0], shared[0]
        why = (
            f"{mine.describe()} is not on {base_ref}: it is your own work, so it moves on top of "
            f"{theirs.head} (on {base_ref}); revision ids are kept"
        )
        return StrategyChoice(REBASE, why, branch=mine, onto=theirs.head)
    if len(shared) == len(branches):
        situation = (
            f"every head is on {base_ref} (the shared branch itself has {len(branches)} heads)"
        )
        why = f"{situation}: released revisions are never edited, so an empty merge revision joins them"
    elif mixed:
        situation = f"{mixed[0].describe()} is partly on {base_ref}"
        why = f"{situation}: released revisions are never edited, so an empty merge revision joins the heads"
    elif len(local) > 1:
        situation = f"{len(local)} heads have revisions that are not on {base_ref}"
        why = f"{situation}: there is no single branch of yours to move, so an empty merge revision joins them"
    else:
        situation = f"there are {len(branches)} heads"
        why = f"{situation}: an empty merge revision joins them all"
    if requested == REBASE:
        raise StrategyRefused(
            f"--strategy=rebase moves one branch of yours onto one other head, and {situation}"
        )
    return StrategyChoice(MERGE, why)


@dataclass(frozen=True)
class Repoint:
    """One edit of a rebase: `revision` (in `path`) gets `new_down` instead of `old_down`."""

    revision: str
    path: str
    old_down: Tuple[str, ...]
    new_down: Tuple[str, ...]


def rebase_edits(ordered: Sequence[Revision], branch: Branch, onto: str) -> Tuple[Repoint, ...]:
    """Re-point each root of `branch` at `onto`, keeping its parents inside the branch."""
    by_id = {r.revision: r for r in ordered}
    own = set(branch.own)
    edits = []
    for root in branch.roots:
        rev = by_id[root]
        kept = tuple(d for d in rev.down_revisions if d in own)
        new_down = tuple(dict.fromkeys((*kept, onto)))
        edits.append(Repoint(root, rev.path, tuple(rev.down_revisions), new_down))
    return tuple(edits)


def apply_edits(ordered: Sequence[Revision], edits: Sequence[Repoint]) -> Tuple[Revision, ...]:
    """The revisions as they will be once `edits` are written (same order)."""
    by_rev = {e.revision: e for e in edits}
    out = []
    for r in ordered:
        edit = by_rev.get(r.revision)
        out.append(dataclasses.replace(r, down_revisions=edit.new_down) if edit else r)
    return tuple(out)


def merge_message(heads: Sequence[Tuple[str, str]]) -> str:
    """`Merge a (message a) and b (message b)`: names what the merge joins."""
    parts = [f"{rev} ({msg})" if msg else rev for rev, msg in heads]
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Merge {joined}"


# ---------------------------------------------------------------------------------------------
# Editing a revision file's text
# ---------------------------------------------------------------------------------------------


class RewriteError(Exception):
    pass


def _down_revision_value(tree: ast.Module) -> ast.expr:
    found = None
    for node in tree.body:  # module level only, the last assignment wins (as when importing)
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "down_revision" for t in node.targets
        ):
            if len(node.targets) != 1:
                raise RewriteError("`down_revision` is assigned together with other names")
            found = node.value
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "down_revision"
            and node.value is not None
        ):
            found = node.value
    if found is None:
        raise RewriteError("no module-level `down_revision = ...`")
    return found


def _offset(lines: List[str], lineno: int, col_utf8: int) -> int:
    """A character offset into the text from an AST position (1-based line, UTF-8 byte column)."""
    before = sum(len(line) for line in lines[: lineno - 1])
    return before + len(lines[lineno - 1].encode("utf-8")[:col_utf8].decode("utf-8"))


def format_down_revision(down: Sequence[str], quote: str = '"') -> str:
    def q(value: str) -> str:
        return f"{quote}{value}{quote}"

    if not down:
        return "None"
    if len(down) == 1:
        return q(down[0])
    return "(" + ", ".join(q(d) for d in down) + ")"


_REVISES = re.compile(r"^(?P<lead>[ \t]*Revises:)[^\n]*$", re.MULTILINE)


def repoint_text(text: str, new_down: Sequence[str], path: str = "<revision>") -> str:
    """`text` with its `down_revision` value and its docstring's `Revises:` line set to `new_down`.

    Everything else is kept byte for byte (ids, annotations, quotes, the rest of the docstring).
    The result is parsed back; a file this cannot edit safely raises `RewriteError`.
    """
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        raise RewriteError(f"it does not parse: {e.msg} (line {e.lineno})") from None
    value = _down_revision_value(tree)
    lines = text.splitlines(keepends=True)
    start = _offset(lines, value.lineno, value.col_offset)
    end = _offset(lines, value.end_lineno, value.end_col_offset)
    old = text[start:end]
    quote = "'" if old.lstrip("(").lstrip().startswith("'") else '"'
    out = text[:start] + format_down_revision(new_down, quote) + text[end:]

    # The docstring's `Revises:` line (Alembic's template writes one); only inside the docstring.
    first = tree.body[0] if tree.body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
        and first.end_lineno is not None
        and first.end_lineno < value.lineno
    ):
        doc_start = _offset(lines, first.lineno, first.col_offset)
        doc_end = _offset(lines, first.end_lineno, first.end_col_offset)
        doc = out[doc_start:doc_end]
        new_doc = _REVISES.sub(lambda m: f"{m.group('lead')} {', '.join(new_down)}", doc, count=1)
        out = out[:doc_start] + new_doc + out[doc_end:]

    try:
        parsed = parse_revision_file(path, out)
    except RevisionFileError as e:
        raise RewriteError(f"the edited file does not parse: {e}") from None
    if tuple(parsed.down_revisions) != tuple(new_down):
        raise RewriteError(
            f"the edited file says down_revision = {parsed.down_revisions!r}, expected {tuple(new_down)!r}"
        )
    return out
