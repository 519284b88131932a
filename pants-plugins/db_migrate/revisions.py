"""Alembic revision files read without importing them, and the revision graph Alembic builds from them.

Pure (standard library only, Python 3.9 syntax): the Pants side (3.9) imports it to check a component
before anything touches a database, and the runner (3.11) gets it shipped next to itself. The graph is
a port of `alembic.script.revision.RevisionMap` (1.20), so a target or a plan computed here is the one
Alembic will execute; `revisions_alembic_test.py` compares the two on generated histories.
"""

from __future__ import annotations

import ast
import difflib
import io
import os
import re
import tokenize
import unicodedata
from dataclasses import dataclass
from types import CodeType
from typing import Callable, Collection, Iterable, Sequence, Union

# ---------------------------------------------------------------------------------------------------
# Revision files
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revision:
    """What Alembic reads from one revision file: its header assignments and the docstring."""

    revision: str
    down_revisions: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    message: str = ""  # Alembic's `Script.doc`: the docstring's first paragraph
    path: str = ""


class RevisionFileError(Exception):
    """A revision file Alembic could not load (or that cannot be read without running it)."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        super().__init__(path, line, message)
        self.path = path
        self.line = line
        self.message = message

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.message}"
            if self.line
            else f"{self.path}: {self.message}"
        )


# Alembic's `_only_source_rev_file` and `_legacy_rev` (alembic/script/base.py).
_REVISION_FILE = re.compile(r"(?!\.\#|__init__)(.*\.py)$")
_LEGACY_REVISION_FILE = re.compile(r"([a-f0-9]+)\.py$")


def is_revision_file(filename: str) -> bool:
    """Whether Alembic loads this file from a versions directory (`*.py`, not `__init__*`, not `.#*`).

    Alembic loads the files of each version location in sorted name order; build the graph in that
    order too, since it breaks ties in `upgrade_plan` / `downgrade_plan` / `history`.
    """
    return _REVISION_FILE.match(os.path.basename(filename)) is not None


def parse_revision_file(path: str, source: str | bytes) -> Revision:
    """Read a revision file's header as importing it would define it, without running it.

    The whole file is compiled as `import` compiles it, so every error Python would raise before
    running the file (syntax, indentation, `return` outside a function, bad encoding, ...) is
    reported with its line. The header is then read from the text, checked against the compiled
    code, by a fast path that needs no syntax tree; what the fast path cannot prove is read from
    the AST.
    """
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as e:
        raise RevisionFileError(path, e.lineno, f"{type(e).__name__}: {e.msg}") from None
    except ValueError as e:  # null bytes on Python 3.9
        raise RevisionFileError(path, None, f"cannot compile: {e}") from None
    text = _decode(source)
    values = _fast_header(text, code)
    if values is None:
        values = _header_from_ast(path, text)
    return _revision_from_header(path, values, _docstring(code))


_HEADER_NAMES = ("revision", "down_revision", "branch_labels", "depends_on")


def _leading_docstring(text: str) -> str | None | bool:
    """The module docstring when it is a plain triple-quoted literal at the top; False if unsure."""
    start = 0
    while text.startswith(("#", "\n"), start):  # comment and blank lines before it
        start = text.find("\n", start) + 1
        if start == 0:
            return None
    quote = text[start : start + 3]
    if quote not in ('"""', "'''"):
        return (
            False if text[start : start + 1] in ("'", '"', "r", "R", "u", "U", " ", "\t") else None
        )
    end = text.find(quote, start + 3)
    if end == -1:
        return False
    body = text[start + 3 : end]
    return False if "\\" in body else body


def read_revision_directory(directory: str) -> tuple[Revision, ...]:
    """Every revision file of a versions directory, in Alembic's load order, read as the pre-flight does."""
    revisions = []
    prefix = directory.rstrip("/") + "/"
    for name in sorted(os.listdir(directory)):
        # is_revision_file, inlined: this loop runs once per file of a 5,000-revision history.
        if not name.endswith(".py") or name.startswith(("__init__", ".#")):
            continue
        path = prefix + name
        fd = os.open(path, os.O_RDONLY)
        try:
            # A regular file returns everything asked for up to EOF: one read for a usual file.
            data = os.read(fd, 1 << 16)
            while len(data) % (1 << 16) == 0 and data:
                more = os.read(fd, 1 << 16)
                if not more:
                    break
                data += more
        finally:
            os.close(fd)
        revisions.append(read_revision_header(path, data))
    return tuple(revisions)


def read_revision_header(path: str, source: str | bytes) -> Revision:
    """The header of a revision file as `parse_revision_file` reads it, without compiling the file.

    For the static pre-flight of every run: several times cheaper than compiling, since it only
    looks at column-0 assignments of the header names and a plain leading docstring. Anything it
    cannot read with certainty (a name assigned twice, a value that is not a plain literal, an
    unusual encoding, escapes in the docstring) goes to `parse_revision_file`, which also reports
    syntax errors. Syntax errors elsewhere in the body are found by `pants lint` and when Alembic
    loads the file, before any revision runs.
    """
    if isinstance(source, bytes):
        if source.startswith(b"\xef\xbb\xbf") or b"coding" in source[:200]:
            return parse_revision_file(path, source)
        try:
            text = source.decode("utf-8")
        except UnicodeDecodeError:
            return parse_revision_file(path, source)
    else:
        text = source
    if "\r" in text:
        return parse_revision_file(path, source)
    padded = "\n" + text  # every column-0 statement now follows a newline
    found = _HEADER_ASSIGNMENTS.findall(padded)
    names = [name for name, _, _ in found]
    # Each name assigned once, in a form we read, and no other column-0 statement about it.
    if len(set(names)) != len(names) or _HEADER_STATEMENTS.findall(padded) != names:
        return parse_revision_file(path, source)
    if "revision" not in names or "down_revision" not in names:
        return parse_revision_file(path, source)
    docstring = _leading_docstring(text)
    if docstring is False:
        return parse_revision_file(path, source)
    ids = {}
    for name, _, value in found:
        literal = _simple_literal(value)
        ids[name] = (
            literal
            if name == "revision"
            else (
                ()
                if literal is _NONE
                else ((literal,) if isinstance(literal, str) else tuple(literal))
            )
        )
    revision = ids["revision"]
    if not isinstance(revision, str) or not revision:
        return parse_revision_file(path, source)  # it names the line and the problem
    return Revision(
        revision=revision,
        down_revisions=ids["down_revision"],
        branch_labels=ids.get("branch_labels", ()),
        depends_on=ids.get("depends_on", ()),
        message=docstring.strip().split("\n\n", 1)[0] if docstring else "",
        path=path,
    )


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_NONE = _Marker("None")  # `name = None`, told apart from the fast path's "no answer" (None)
_NOT_LITERAL = _Marker(
    "<not a literal>"
)  # bound to something that cannot be read without running it


def _decode(source: str | bytes) -> str:
    """Source text as Python decodes it (BOM, coding cookie, universal newlines)."""
    if isinstance(source, bytes):
        if b"coding" in b"\n".join(source.split(b"\n", 2)[:2]):
            encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
            text = source.decode(encoding)
        else:
            text = source.decode("utf-8")
    else:
        text = source
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _docstring(code: CodeType) -> str | None:
    """The module's `__doc__`: CPython stores it first, as the first constant and the first name."""
    if code.co_names[:1] == ("__doc__",) and code.co_consts and isinstance(code.co_consts[0], str):
        return code.co_consts[0]
    return None


_SIMPLE_STRING = r"""'[^'\\\n]*'|"[^"\\\n]*\""""
# `[: annotation] = <None | 'str' | tuple/list of 'str'>`, then only a comment before the line ends.
_SIMPLE_ASSIGNMENT = re.compile(
    rf"""[ \t]*(?::(?P<annotation>[^=\n'"\#\\]*))?=(?!=)[ \t]*
        (?P<value>None|{_SIMPLE_STRING}
          |[(\[]\s*(?:(?:{_SIMPLE_STRING})\s*,\s*)*(?:(?:{_SIMPLE_STRING})\s*,?\s*)?[)\]])
        [ \t]*(?:\#[^\n]*)?(?:\n|\Z)""",
    re.VERBOSE,
)
_STRING_IN_VALUE = re.compile(_SIMPLE_STRING)
# Every column-0 header assignment of that simple form, in one pass (the pre-flight's fast path),
# and every column-0 statement that starts with a header name at all (to prove nothing was missed).
_HEADER_ASSIGNMENTS = re.compile(
    rf"""\n(?P<name>revision|down_revision|branch_labels|depends_on)
        [ \t]*(?::(?P<annotation>[^=\n'"\#\\\[\](){{}}]*(?:\[[^=\n'"\#\\\[\]]*(?:\[[^=\n'"\#\\\[\]]*\][^=\n'"\#\\\[\]]*)*\])?[^=\n'"\#\\\[\](){{}}]*))?=(?!=)[ \t]*
        (?P<value>None|{_SIMPLE_STRING}
          |[(\[]\s*(?:(?:{_SIMPLE_STRING})\s*,\s*)*(?:(?:{_SIMPLE_STRING})\s*,?\s*)?[)\]])
        [ \t]*(?:\#[^\n]*)?(?=\n|\Z)""",
    re.VERBOSE,
)
_HEADER_STATEMENTS = re.compile(r"\n(revision|down_revision|branch_labels|depends_on)(?![\w])")


def _fast_header(text: str, code: CodeType) -> dict | None:
    """The header values, or None when this cannot prove them (then the AST decides).

    The proof, for source that compiled: each whole-word occurrence of a header name is either
    (a) at the start of a line not continued by a backslash, the line being
        `name [: annotation] = <None | 'str' | tuple/list of 'str'>` (a statement, or text inside a
        string or brackets), or
    (b) after a `#` on its line with no quote or backslash before it (a comment, or inside a string).
    If every (a) line of a name gives the same value, every module-level binding of the name binds
    that value, and the name is bound iff the module code refers to it (`co_names`): nothing in (a)
    or (b) adds a module-level reference except a real binding.
    """
    if not text.isascii():
        normalized = unicodedata.normalize("NFKC", text)  # identifiers are compared NFKC-normalized
        if any(normalized.count(name) != text.count(name) for name in _HEADER_NAMES):
            return None
    values: dict = {}
    for name in _HEADER_NAMES:
        found: object = None
        at = 0
        pos = text.find(name)
        while pos != -1:
            end = pos + len(name)
            before, after = text[pos - 1 : pos], text[end : end + 1]
            if (before.isalnum() or before == "_") or (after.isalnum() or after == "_"):
                pos = text.find(name, end)
                continue
            if not before or before == "\n":
                if text[pos - 2 : pos] == "\\\n":
                    return None
                value = _simple_assignment(text, end)
                if value is None or (
                    found is not None and (type(found) is not type(value) or found != value)
                ):
                    return None
                found, at = value, pos
            else:
                prefix = text[text.rfind("\n", 0, pos) + 1 : pos]
                if "#" not in prefix or "'" in prefix or '"' in prefix or "\\" in prefix:
                    return None
            pos = text.find(name, end)
        bound = name in code.co_names
        if found is not None and bound:
            values[name] = (found, text.count("\n", 0, at) + 1)
        elif bound:
            return None
    return values


def _simple_assignment(text: str, pos: int) -> object:
    """The value of `[: annotation] = <simple literal>` + end of line at `pos`, or None."""
    v = _SIMPLE_ASSIGNMENT.match(text, pos)
    if not v:
        return None
    annotation = v.group("annotation")
    if annotation and (  # the `=` must not be inside the annotation's brackets
        annotation.count("[") != annotation.count("]")
        or annotation.count("(") != annotation.count(")")
        or "{" in annotation
    ):
        return None
    return _simple_literal(v.group("value"))


def _simple_literal(value: str) -> object:
    """The value of a literal `_SIMPLE_ASSIGNMENT` accepted: None, a string, a tuple/list of them."""
    if value == "None":
        return _NONE
    if value[0] in "'\"":
        return value[1:-1]
    items = tuple(s[1:-1] for s in _STRING_IN_VALUE.findall(value))
    if value[0] == "(" and len(items) == 1 and "," not in value:
        return items[0]  # ("abc") is a parenthesized string
    return list(items) if value[0] == "[" else items


def _header_from_ast(path: str, text: str) -> dict:
    """Header values from the AST: the last module-level binding wins; other bindings are unreadable."""
    values: dict = {}
    for stmt in ast.parse(text, path).body:
        if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
            names, value = [t.id for t in stmt.targets], stmt.value  # type: ignore[attr-defined]
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            if stmt.value is None:
                continue  # `revision: str` only annotates
            names, value = [stmt.target.id], stmt.value
        else:
            names, value = [], stmt
        for name in names:
            if name in _HEADER_NAMES:
                values[name] = (_literal(value), stmt.lineno)
        for name in _bound_names(value).intersection(_HEADER_NAMES):
            values[name] = (_NOT_LITERAL, stmt.lineno)
    return values


def _literal(node: ast.expr) -> object:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, RecursionError):
        return _NOT_LITERAL
    return _NONE if value is None else value


def _bound_names(node: ast.AST) -> set[str]:
    """Module-level names a statement binds or deletes (not those bound inside functions or classes)."""
    names: set[str] = set()
    todo = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(
                n.name
            )  # the body runs later, in its own scope; decorators and defaults run now
            todo.extend(
                [*n.decorator_list, *n.args.defaults, *(d for d in n.args.kw_defaults if d)]
            )
            continue
        elif isinstance(n, ast.ClassDef):
            names.add(n.name)
            todo.extend([*n.decorator_list, *n.bases, *n.keywords])
            continue
        elif isinstance(n, ast.Lambda):
            todo.extend([*n.args.defaults, *(d for d in n.args.kw_defaults if d)])
            continue
        elif isinstance(n, ast.alias):
            names.add((n.asname or n.name).split(".")[0])
        else:  # `except E as name`, and match patterns' captures (3.10+)
            names.update(
                x
                for x in (getattr(n, "name", None), getattr(n, "rest", None))
                if isinstance(x, str)
            )
        todo.extend(ast.iter_child_nodes(n))
    return names


def _revision_from_header(path: str, values: dict, docstring: str | None) -> Revision:
    if "revision" in values:
        revision, line = _value(path, values, "revision")
        if not isinstance(revision, str) or not revision:
            raise RevisionFileError(
                path, line, f"`revision` must be a non-empty string, not {revision!r}"
            )
    else:  # Alembic falls back to a hex file name (the pre-0.2 layout)
        legacy = _LEGACY_REVISION_FILE.match(os.path.basename(path))
        if not legacy:
            raise RevisionFileError(
                path,
                None,
                'no module-level `revision = "..."`: Alembic cannot determine the revision id',
            )
        revision = legacy.group(1)
    if "down_revision" not in values:
        raise RevisionFileError(
            path,
            None,
            "no module-level `down_revision` (a first revision has `down_revision = None`)",
        )
    return Revision(
        revision=revision,
        down_revisions=_ids(path, values, "down_revision"),
        branch_labels=_ids(path, values, "branch_labels"),
        depends_on=_ids(path, values, "depends_on"),
        message=docstring.strip().split("\n\n", 1)[0] if docstring else "",
        path=path,
    )


def _value(path: str, values: dict, name: str) -> tuple:
    value, line = values.get(name, (_NONE, None))
    if value is _NOT_LITERAL:
        raise RevisionFileError(
            path, line, f"`{name}` is not a literal; it must be readable without running the file"
        )
    return value, line


def _ids(path: str, values: dict, name: str) -> tuple[str, ...]:
    """Alembic's `util.to_tuple(value, default=())`, limited to what a revision file may sensibly hold."""
    value, line = _value(path, values, name)
    if value is _NONE:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise RevisionFileError(
        path, line, f"`{name}` must be None, a string or a tuple/list of strings, not {value!r}"
    )


# ---------------------------------------------------------------------------------------------------
# The revision graph
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphProblem:
    """Something that stops Alembic from building its revision map (or makes it silently wrong).

    kind: duplicate-revision | missing-revision | cycle | dependency-cycle | duplicate-branch-label |
    invalid-revision-id. `paths` are the files to look at (both files of a duplicate, the file that
    names a missing revision, every file of a cycle).
    """

    kind: str
    message: str
    revisions: tuple[str, ...]
    paths: tuple[str, ...]


class InvalidRevisionGraph(Exception):
    """The revisions do not form a graph Alembic can work with; `problems` lists every reason."""

    def __init__(self, problems: Sequence[GraphProblem]) -> None:
        super().__init__(tuple(problems))
        self.problems = tuple(problems)

    def __str__(self) -> str:
        return "\n".join(p.message for p in self.problems)


class TargetError(Exception):
    """A target (or a current head) Alembic would reject; the fields feed the user-facing message.

    kind: unknown | ambiguous | not-on-branch | multiple-heads | not-ancestor | relative | invalid.
    `argument` is the identifier Alembic could not resolve, `candidates` the revisions an ambiguous
    prefix (or `head`) matches, `suggestions` the closest known ids and labels to an unknown one.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        argument: str | None = None,
        candidates: Sequence[str] = (),
        suggestions: Sequence[str] = (),
    ) -> None:
        super().__init__(kind, message, argument, tuple(candidates), tuple(suggestions))
        self.kind = kind
        self.message = message
        self.argument = argument
        self.candidates = tuple(candidates)
        self.suggestions = tuple(suggestions)

    def __str__(self) -> str:
        return self.message


_ILLEGAL_ID_CHARS = ("@", "-", "+", ":")
_ILLEGAL_ID = re.compile("[@+:-]")
_RELATIVE_DESTINATION = re.compile(r"(?:(.+?)@)?(\w+)?((?:\+|-)\d+)")
_BASE = "base"  # Alembic's marker for "below every base" in walks


def _dedupe(ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def _to_tuple(value: object) -> tuple | None:
    """Alembic's `util.to_tuple(value)` (default None)."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(value)
    return (value,)


class _Node:
    """Alembic's `Revision` object: one revision plus the links the map computes."""

    __slots__ = (
        "revision",
        "id",
        "down_revision",
        "versioned_down",
        "dependencies",
        "resolved_dependencies",
        "normalized_dependencies",
        "all_down",
        "normalized_down",
        "nextrev",
        "all_nextrev",
        "branch_labels",
    )

    def __init__(self, revision: Revision) -> None:
        self.revision = revision
        self.id = revision.revision
        downs = revision.down_revisions
        # Alembic keeps one down revision as a scalar and several as a tuple (`tuple_rev_as_scalar`).
        self.down_revision: str | tuple[str, ...] | None = (
            None if not downs else downs[0] if len(downs) == 1 else tuple(downs)
        )
        self.versioned_down = tuple(downs)
        self.dependencies = tuple(revision.depends_on)
        self.resolved_dependencies: tuple[str, ...] = ()
        self.normalized_dependencies: tuple[str, ...] = ()
        self.all_down: tuple[str, ...] = ()
        self.normalized_down: tuple[str, ...] = ()
        self.nextrev: frozenset[str] = frozenset()
        self.all_nextrev: frozenset[str] = frozenset()
        self.branch_labels: set[str] = set(revision.branch_labels)

    @property
    def is_base(self) -> bool:
        return self.down_revision is None

    @property
    def is_real_branch_point(self) -> bool:
        return len(self.all_nextrev) > 1

    @property
    def is_merge_point(self) -> bool:
        return len(self.versioned_down) > 1

    def __repr__(self) -> str:
        return f"_Node({self.id!r})"


_Target = Union[_Node, None, str]  # a node, None (nothing / overwalked) or "base"


def find_problems(revisions: Sequence[Revision]) -> tuple[GraphProblem, ...]:
    """Every reason Alembic would fail to build (or would mis-build) a map of these revisions."""
    problems: list[GraphProblem] = []
    by_id: dict[str, list[Revision]] = {}
    for rev in revisions:
        by_id.setdefault(rev.revision, []).append(rev)
    for rev_id, defined in by_id.items():
        if len(defined) > 1:
            paths = tuple(r.path for r in defined)
            problems.append(
                GraphProblem(
                    "duplicate-revision",
                    f"Revision {rev_id} is defined more than once: {', '.join(paths)}",
                    (rev_id,),
                    paths,
                )
            )
    for rev in revisions:
        if not _ILLEGAL_ID.search(rev.revision):
            continue
        illegal = sorted(set(rev.revision).intersection(_ILLEGAL_ID_CHARS))
        if illegal:
            problems.append(
                GraphProblem(
                    "invalid-revision-id",
                    f"Character(s) '{', '.join(illegal)}' not allowed in revision identifier "
                    f"'{rev.revision}' ({rev.path})",
                    (rev.revision,),
                    (rev.path,),
                )
            )
    labels: dict[str, Revision] = {}
    for rev in revisions:
        for label in rev.branch_labels:
            owner = by_id[label][0] if label in by_id else labels.get(label)
            if owner is not None:
                problems.append(
                    GraphProblem(
                        "duplicate-branch-label",
                        f"Branch name '{label}' in revision {rev.revision} already used by revision "
                        f"{owner.revision}",
                        (rev.revision, owner.revision),
                        _dedupe((rev.path, owner.path)),
                    )
                )
            else:
                labels[label] = rev
    ids_and_labels = {**labels, **by_id}
    for rev in revisions:
        for field, refs, known in (
            ("down_revision", rev.down_revisions, by_id),
            ("depends_on", rev.depends_on, ids_and_labels),
        ):
            for ref in refs:
                if ref not in known:
                    hint = (
                        " (that is a branch label; down_revision must name a revision id)"
                        if ref in labels
                        else ""
                    )
                    problems.append(
                        GraphProblem(
                            "missing-revision",
                            f"Revision {rev.revision} ({rev.path}) has {field} '{ref}', but no migration "
                            f"file defines revision '{ref}'{hint}",
                            (rev.revision, ref),
                            (rev.path,),
                        )
                    )
    first = {rev_id: defined[0] for rev_id, defined in by_id.items()}

    def edges(rev: Revision, with_dependencies: bool) -> list[str]:
        refs = list(rev.down_revisions)
        if with_dependencies:
            refs += [
                labels[d].revision if d in labels and d not in first else d for d in rev.depends_on
            ]
        return [r for r in refs if r in first]

    if _acyclic(list(first), lambda r: edges(first[r], True)):
        return tuple(problems)
    versioned_cycles = _cycles(list(first), lambda r: edges(first[r], False))
    for kind, cycles in (
        ("cycle", versioned_cycles),
        ("dependency-cycle", _cycles(list(first), lambda r: edges(first[r], True))),
    ):
        for cycle in cycles:
            if kind == "dependency-cycle" and any(set(c) <= set(cycle) for c in versioned_cycles):
                continue
            what = (
                ("Self-loop" if len(cycle) == 1 else "Cycle")
                if kind == "cycle"
                else ("Dependency self-loop" if len(cycle) == 1 else "Dependency cycle")
            )
            problems.append(
                GraphProblem(
                    kind,
                    f"{what} is detected in revisions ({', '.join(cycle)})",
                    cycle,
                    tuple(first[r].path for r in cycle),
                )
            )
    return tuple(problems)


def _acyclic(ids: list[str], down: Callable[[str], list[str]]) -> bool:
    """Kahn's peeling: cheap, and enough when there is nothing to name."""
    downs = {rev_id: down(rev_id) for rev_id in ids}
    waiting = dict.fromkeys(ids, 0)
    for refs in downs.values():
        for ref in refs:
            waiting[ref] += 1
    ready = [rev_id for rev_id, count in waiting.items() if not count]
    peeled = 0
    while ready:
        peeled += 1
        for ref in downs[ready.pop()]:
            waiting[ref] -= 1
            if not waiting[ref]:
                ready.append(ref)
    return peeled == len(ids)


def _cycles(ids: list[str], down: Callable[[str], list[str]]) -> list[tuple[str, ...]]:
    """Strongly connected components that contain a cycle (Tarjan, iterative), members in `ids` order."""
    order = {rev_id: i for i, rev_id in enumerate(ids)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[tuple[str, ...]] = []
    for root in ids:
        if root in index:
            continue
        work = [(root, iter(down(root)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(down(child))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in down(node):
                        found.append(tuple(sorted(component, key=order.__getitem__)))
    return sorted(found, key=lambda c: order[c[0]])


def heads_of(revisions: Sequence[Revision]) -> tuple[str, ...]:
    """`RevisionGraph(revisions).heads` without building the graph: revisions no `down_revision`
    names, in load order. Only meaningful when `find_problems(revisions)` is empty."""
    named = {down for rev in revisions for down in rev.down_revisions}
    return tuple(rev.revision for rev in revisions if rev.revision not in named)


class RevisionGraph:
    """Alembic's `RevisionMap` over parsed revisions, for answers without Alembic or a database.

    Build it from the revisions in Alembic's load order (see `is_revision_file`). Construction raises
    `InvalidRevisionGraph` listing every problem (duplicates, missing revisions, cycles, ...); several
    heads are not a problem (see `heads`).
    """

    def __init__(self, revisions: Iterable[Revision]) -> None:
        revisions = tuple(revisions)
        problems = find_problems(revisions)
        if problems:
            raise InvalidRevisionGraph(problems)
        self.revisions = revisions
        nodes = [_Node(r) for r in revisions]
        self._nodes = nodes
        # Alembic's `_revision_map`: revision ids in load order, then branch labels, then None and ().
        self._by_id = {n.id: n for n in nodes}
        self._map: dict = dict(self._by_id)
        labelled = [n for n in nodes if n.branch_labels]
        for node in labelled:
            for label in node.revision.branch_labels:
                self._map[label] = node
        self._map[None] = self._map[()] = None
        for node in nodes:
            node.resolved_dependencies = tuple(self._map[d].id for d in node.dependencies)
            node.all_down = _dedupe(node.versioned_down + node.resolved_dependencies)
        nextrev: dict[str, set[str]] = {n.id: set() for n in nodes}
        all_nextrev: dict[str, set[str]] = {n.id: set() for n in nodes}
        for node in nodes:
            for down in node.all_down:
                all_nextrev[down].add(node.id)
                if down in node.versioned_down:
                    nextrev[down].add(node.id)
        for node in nodes:
            node.nextrev = frozenset(nextrev[node.id])
            node.all_nextrev = frozenset(all_nextrev[node.id])
        # Alembic's heads (`alembic heads`, `get_heads()`): revisions no `down_revision` names.
        self.heads: tuple[str, ...] = tuple(n.id for n in nodes if not n.nextrev)
        # Heads once `depends_on` counts too (`_real_heads`): what the `heads` target means, and what
        # the version table holds after `upgrade heads`.
        self.real_heads: tuple[str, ...] = tuple(n.id for n in nodes if not n.all_nextrev)
        # Revisions with no `down_revision` (they may still have `depends_on`).
        self.bases: tuple[str, ...] = tuple(n.id for n in nodes if n.is_base)
        for node in nodes:
            if node.resolved_dependencies:
                # Kept as Alembic keeps it, a tuple made from a set: ordering ties follow the set.
                normalized = set(node.resolved_dependencies)
                for ancestor in self._get_ancestor_nodes([node], include_dependencies=False):
                    if ancestor is not node and ancestor.resolved_dependencies:
                        normalized.difference_update(ancestor.resolved_dependencies)
                node.normalized_dependencies = tuple(normalized)
            node.normalized_down = _dedupe(node.versioned_down + node.normalized_dependencies)
        self._add_branches(labelled)
        self.branch_points: tuple[str, ...] = tuple(n.id for n in nodes if len(n.nextrev) > 1)
        self.merge_points: tuple[str, ...] = tuple(n.id for n in nodes if n.is_merge_point)

    def _add_branches(self, labelled: list[_Node]) -> None:
        """Spread branch labels like Alembic: to every descendant, and down an unbranched line."""
        for revision in labelled:
            node = revision
            for node in self._get_descendant_nodes([revision], include_dependencies=False):
                node.branch_labels.update(revision.branch_labels)
            parent: _Node | None = node
            while parent and not parent.is_real_branch_point and not parent.is_merge_point:
                parent.branch_labels.update(revision.branch_labels)
                if parent.down_revision:
                    parent = self._map[parent.down_revision]
                else:
                    break

    # -- plain questions ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, revision_id: object) -> bool:
        return revision_id in self._by_id

    def get(self, revision_id: str) -> Revision | None:
        """The revision with exactly this id."""
        node = self._by_id.get(revision_id)
        return node.revision if node else None

    def branch_labels(self, revision_id: str) -> frozenset[str]:
        """The labels a revision carries, its own and those Alembic spreads along its branch."""
        return frozenset(self._by_id[revision_id].branch_labels)

    def children(self, revision_id: str) -> tuple[str, ...]:
        """Revisions whose `down_revision` names this one, in load order."""
        nextrev = self._by_id[revision_id].nextrev
        return tuple(n.id for n in self._nodes if n.id in nextrev)

    def closest(self, text: str, n: int = 3) -> tuple[str, ...]:
        """Known revision ids and branch labels nearest to `text`, for "did you mean" hints."""
        keys = [k for k in self._map if isinstance(k, str)]
        prefixed = [k for k in keys if k.startswith(text) or (len(k) > 3 and text.startswith(k))]
        similar = difflib.get_close_matches(text, keys, n=n, cutoff=0.5)
        return _dedupe(prefixed + similar)[:n]

    # -- what Alembic commands would do ------------------------------------------------------------

    def resolve(
        self, target: str, current_heads: Sequence[str] = (), *, downgrade: bool = False
    ) -> tuple[str, ...]:
        """The revision(s) `target` denotes for `upgrade` (or `downgrade`) from `current_heads`; () is base.

        Accepts what Alembic accepts: ids, unambiguous prefixes, `head`, `heads`, `base`, branch labels,
        `label@head`, `rev@head`, `+N`, `-N`, `head-1`, `rev+2`, `label@+1`, ...
        """
        current = tuple(current_heads)
        if downgrade:
            _, rev = self._parse_downgrade_target(current, target, assert_relative_length=True)
            return () if rev is None or rev == _BASE else (_node(rev).id,)
        targets = self._parse_upgrade_target(current, target, assert_relative_length=True)
        _require_nodes(targets, target)
        return tuple(_node(t).id for t in targets)

    def upgrade_plan(self, target: str, current_heads: Sequence[str] = ()) -> tuple[Revision, ...]:
        """The revisions `alembic upgrade <target>` applies from `current_heads`, in the order it applies them."""
        try:
            nodes = self._iterate_revisions(target, tuple(current_heads), implicit_base=True)
        except TargetError as e:
            raise _as_destination_error(e, target, "upgrade") from None
        return tuple(n.revision for n in reversed(nodes))

    def downgrade_plan(
        self, target: str, current_heads: Sequence[str] = ()
    ) -> tuple[Revision, ...]:
        """The revisions `alembic downgrade <target>` reverts from `current_heads`, in the order it reverts them."""
        try:
            nodes = self._iterate_revisions(tuple(current_heads), target, select_for_downgrade=True)
        except TargetError as e:
            raise _as_destination_error(e, target, "downgrade") from None
        return tuple(n.revision for n in nodes)

    def history(self) -> tuple[Revision, ...]:
        """Every revision, newest first, in `alembic history` order."""
        nodes = self._iterate_revisions(
            "heads", "base", inclusive=True, assert_relative_length=False
        )
        return tuple(n.revision for n in nodes)

    # -- Alembic's RevisionMap, ported (names and structure kept so the two can be read side by side) --

    def _unknown(self, argument: str, message: str | None = None) -> TargetError:
        return TargetError(
            "unknown",
            message or f"Cannot locate revision '{argument}'",
            argument,
            suggestions=self.closest(argument),
        )

    def _get_current_head(self, branch_label: str | None = None) -> str | None:
        current_heads: Sequence[str] = self.heads
        if branch_label:
            current_heads = self._filter_for_lineage(current_heads, branch_label)
        if len(current_heads) > 1:
            argument = f"{branch_label}@head" if branch_label else "head"
            raise TargetError(
                "multiple-heads",
                f"Multiple head revisions are present for given argument '{argument}'; please specify a "
                f"specific target revision, '<branchname>@head' to narrow to a specific head, or 'heads' "
                f"for all heads",
                argument,
                candidates=current_heads,
            )
        return current_heads[0] if current_heads else None

    def _get_revisions(self, id_: object) -> tuple[_Target, ...]:
        if isinstance(id_, (list, tuple, set, frozenset)):
            return sum((self._get_revisions(i) for i in id_), ())
        resolved_id, branch_label = self._resolve_revision_number(id_)
        if len(resolved_id) == 1:
            try:
                rint = int(resolved_id[0])
            except ValueError:
                pass
            else:
                if rint < 0:
                    select_heads = self._get_revisions("heads")
                    if branch_label is not None:
                        select_heads = tuple(
                            h for h in select_heads if branch_label in _node(h).branch_labels
                        )
                    return tuple(self._walk(h, steps=rint) for h in select_heads)
        return tuple(self._revision_for_ident(rev_id, branch_label) for rev_id in resolved_id)

    def _get_revision(self, id_: object) -> _Node | None:
        resolved_id, branch_label = self._resolve_revision_number(id_)
        if len(resolved_id) > 1:
            raise TargetError(
                "multiple-heads",
                f"Multiple heads are present for given argument '{id_}'; {', '.join(resolved_id)}",
                str(id_),
                candidates=resolved_id,
            )
        return self._revision_for_ident(resolved_id[0] if resolved_id else (), branch_label)

    def _resolve_branch(self, branch_label: str) -> _Node | None:
        if branch_label in self._map:
            return self._map[branch_label]
        try:
            return self._revision_for_ident(branch_label)
        except TargetError:
            raise self._unknown(branch_label, f"No such branch: '{branch_label}'") from None

    def _revision_for_ident(
        self, resolved_id: object, check_branch: str | None = None
    ) -> _Node | None:
        branch_rev = self._resolve_branch(check_branch) if check_branch else None
        if resolved_id in self._map:
            revision = self._map[resolved_id]
        else:
            if not isinstance(resolved_id, str) or not resolved_id:
                raise TargetError("invalid", f"{resolved_id!r} is not a revision identifier", None)
            revs: Sequence[str] = [
                x for x in self._map if x and len(x) > 3 and x.startswith(resolved_id)  # type: ignore[union-attr]
            ]
            if branch_rev:
                revs = self._filter_for_lineage(revs, check_branch)
            if not revs:
                hint = (
                    "; please ensure at least four characters are present for partial revision identifier matches"
                    if len(resolved_id) < 4
                    else ""
                )
                raise self._unknown(resolved_id, f"Cannot locate revision '{resolved_id}'{hint}")
            if len(revs) > 1:
                raise TargetError(
                    "ambiguous",
                    f"Multiple revisions start with '{resolved_id}': {', '.join(repr(r) for r in revs)}",
                    resolved_id,
                    candidates=revs,
                )
            revision = self._map[revs[0]]
        if check_branch and revision is not None:
            assert branch_rev is not None
            if not self._shares_lineage(revision.id, [branch_rev.id]):
                raise TargetError(
                    "not-on-branch",
                    f"Revision {revision.id} is not a member of branch '{check_branch}'",
                    str(resolved_id),
                )
        return revision

    def _filter_into_branch_heads(self, targets: Iterable[_Target]) -> set:
        targets = set(targets)
        for rev in list(targets):
            node = _node(rev)
            if targets.intersection(
                self._get_descendant_nodes([node], include_dependencies=False)
            ).difference([rev]):
                targets.discard(rev)
        return targets

    def _filter_for_lineage(
        self, targets: Iterable, check_against: str | None, include_dependencies: bool = False
    ) -> tuple:
        id_, branch_label = self._resolve_revision_number(check_against)
        shares: list[str] = []
        if branch_label:
            shares.append(branch_label)
        if id_:
            shares.extend(id_)
        return tuple(
            tg
            for tg in targets
            if self._shares_lineage(tg, shares, include_dependencies=include_dependencies)
        )

    def _shares_lineage(
        self,
        target: object,
        test_against_revs: Sequence[object],
        include_dependencies: bool = False,
    ) -> bool:
        if not test_against_revs:
            return True
        resolved_target = (
            target if isinstance(target, _Node) else _node(self._revision_for_ident(target))
        )
        resolved_test_against = [
            r if isinstance(r, _Node) else self._revision_for_ident(r)
            for r in _to_tuple(test_against_revs) or ()
        ]
        lineage = set(
            self._get_descendant_nodes([resolved_target], include_dependencies=include_dependencies)
        )
        lineage.update(
            self._get_ancestor_nodes([resolved_target], include_dependencies=include_dependencies)
        )
        return bool(lineage.intersection(resolved_test_against))

    def _resolve_revision_number(self, id_: object) -> tuple[tuple[str, ...], str | None]:
        branch_label: str | None = None
        if isinstance(id_, str) and "@" in id_:
            branch_label, id_ = id_.split("@", 1)
        elif id_ is not None and (
            (isinstance(id_, tuple) and id_ and not isinstance(id_[0], str))
            or not isinstance(id_, (str, tuple))
        ):
            raise TargetError("invalid", f"revision identifier {id_!r} is not a string", None)
        if id_ == "heads":
            if branch_label:
                return self._filter_for_lineage(self.heads, branch_label), branch_label
            return self.real_heads, branch_label
        if id_ == "head":
            current_head = self._get_current_head(branch_label)
            return ((current_head,) if current_head else ()), branch_label
        if id_ == "base" or id_ is None:
            return (), branch_label
        return _to_tuple(id_) or (), branch_label  # type: ignore[return-value]

    def _iterate_revisions(
        self,
        upper: object,
        lower: object,
        implicit_base: bool = False,
        inclusive: bool = False,
        assert_relative_length: bool = True,
        select_for_downgrade: bool = False,
    ) -> list[_Node]:
        collect = (
            self._collect_downgrade_revisions
            if select_for_downgrade
            else self._collect_upgrade_revisions
        )
        revisions, heads = collect(
            upper,
            lower,
            inclusive=inclusive,
            implicit_base=implicit_base,
            assert_relative_length=assert_relative_length,
        )
        return [self._by_id[rev_id] for rev_id in self._topological_sort(revisions, heads)]

    def _get_descendant_nodes(
        self,
        targets: Collection,
        check: bool = False,
        omit_immediate_dependencies: bool = False,
        include_dependencies: bool = True,
    ) -> list[_Node]:
        fn: Callable[[_Node], Iterable[str]]
        if omit_immediate_dependencies:

            def fn(rev: _Node) -> Iterable[str]:
                return rev.all_nextrev if rev not in targets else rev.nextrev

        elif include_dependencies:

            def fn(rev: _Node) -> Iterable[str]:
                return rev.all_nextrev

        else:

            def fn(rev: _Node) -> Iterable[str]:
                return rev.nextrev

        return self._iterate_related_revisions(fn, targets, check=check)

    def _get_ancestor_nodes(
        self, targets: Collection, check: bool = False, include_dependencies: bool = True
    ) -> list[_Node]:
        if include_dependencies:
            return self._iterate_related_revisions(
                lambda r: r.normalized_down, targets, check=check
            )
        return self._iterate_related_revisions(lambda r: r.versioned_down, targets, check=check)

    def _iterate_related_revisions(
        self, fn: Callable[[_Node], Iterable[str]], targets: Collection, check: bool = False
    ) -> list[_Node]:
        seen: set[_Node] = set()
        related: list[_Node] = []
        todo: list[_Node] = []
        for target_for in targets:
            target = _node(target_for)
            todo.append(target)
            per_target: set[_Node] = set()
            while todo:
                rev = todo.pop()
                if check:
                    per_target.add(rev)
                if rev in seen:
                    continue
                seen.add(rev)
                todo.extend(self._map[rev_id] for rev_id in fn(rev))
                related.append(rev)
            if check:
                overlaps = per_target.intersection(targets).difference([target])
                if overlaps:
                    raise TargetError(
                        "invalid",
                        f"Requested revision {target.id} overlaps with other requested revisions "
                        f"{', '.join(r.id for r in overlaps)}",
                        target.id,
                        candidates=tuple(r.id for r in overlaps),
                    )
        return related

    def _topological_sort(
        self, revisions: Collection[_Node], heads: Iterable[_Target]
    ) -> list[str]:
        """Alembic's order: walk down from the heads (in load order), finishing a branch before a parent."""
        id_to_rev = self._map

        def get_ancestors(rev_id: str) -> set[str]:
            return {r.id for r in self._get_ancestor_nodes([id_to_rev[rev_id]])}

        todo = {d.id for d in revisions}
        inserted_order = {k: i for i, k in enumerate(self._map)}
        current_heads = sorted(
            {_node(d).id for d in heads if _node(d).id in todo}, key=inserted_order.__getitem__
        )
        ancestors_by_idx = [get_ancestors(rev_id) for rev_id in current_heads]
        output: list[str] = []
        current_candidate_idx = 0
        while current_heads:
            candidate = current_heads[current_candidate_idx]
            for check_head_index, ancestors in enumerate(ancestors_by_idx):
                if check_head_index != current_candidate_idx and candidate in ancestors:
                    current_candidate_idx = check_head_index
                    break
            else:
                if candidate in todo:
                    output.append(candidate)
                    todo.remove(candidate)
                candidate_rev = id_to_rev[candidate]
                heads_to_add = [
                    r for r in candidate_rev.normalized_down if r in todo and r not in current_heads
                ]
                if not heads_to_add:
                    del current_heads[current_candidate_idx]
                    del ancestors_by_idx[current_candidate_idx]
                    current_candidate_idx = max(current_candidate_idx - 1, 0)
                elif (
                    not candidate_rev.normalized_dependencies
                    and len(candidate_rev.versioned_down) == 1
                ):
                    current_heads[current_candidate_idx] = heads_to_add[0]
                    ancestors_by_idx[current_candidate_idx].discard(candidate)
                else:
                    current_heads[current_candidate_idx] = heads_to_add[0]
                    current_heads.extend(heads_to_add[1:])
                    ancestors_by_idx[current_candidate_idx] = get_ancestors(heads_to_add[0])
                    ancestors_by_idx.extend(get_ancestors(head) for head in heads_to_add[1:])
        assert not todo
        return output

    def _walk(
        self, start: object, steps: int, branch_label: str | None = None, no_overwalk: bool = True
    ) -> _Target:
        initial: _Target = self._get_revision(start) if isinstance(start, str) else start  # type: ignore[assignment]
        children: Sequence[_Target]
        for _ in range(abs(steps)):
            if steps > 0:
                if initial == _BASE:
                    raise TargetError("invalid", "Cannot walk up from below the base", None)
                walk_up = [
                    _node(rev)
                    for rev in self._get_revisions(
                        self.bases if initial is None else _node(initial).nextrev
                    )
                ]
                children = (
                    self._filter_for_lineage(walk_up, branch_label) if branch_label else walk_up
                )
            elif initial == _BASE:
                children = ()
            else:
                children = self._get_revisions(
                    self.heads if initial is None else _node(initial).down_revision
                )
                if not children:
                    children = (_BASE,)
            if not children:
                return None if no_overwalk else initial
            if len(children) > 1:
                raise TargetError(
                    "relative", "Ambiguous walk", None, candidates=[_node(c).id for c in children]
                )
            initial = children[0]
        return initial

    def _relative_out_of_range(self, relative: str | int) -> TargetError:
        return TargetError(
            "relative",
            f"Relative revision {relative} didn't produce {abs(int(relative))} migrations",
        )

    def _parse_downgrade_target(
        self, current_revisions: object, target: object, assert_relative_length: bool
    ) -> tuple[str | None, _Target]:
        if target is None:
            return None, None
        if not isinstance(target, str):
            raise TargetError(
                "invalid", f"Expected downgrade target in string form, not {target!r}"
            )
        match = _RELATIVE_DESTINATION.match(target)
        if match:
            branch_label, symbol, relative = match.groups()
            rel_int = int(relative)
            if rel_int >= 0:
                if symbol is None:
                    raise self._relative_out_of_range(relative)
                rev = self._walk(symbol, rel_int, branch_label, no_overwalk=assert_relative_length)
                if rev is None:
                    raise TargetError("relative", f"'{target}' walks past the heads")
                return branch_label, rev
            relative_revision = symbol is None
            if relative_revision:
                if branch_label:
                    cr_tuple = _to_tuple(current_revisions)
                    symbol_list: Sequence = self._filter_for_lineage(
                        _iterable(cr_tuple), branch_label
                    )
                    if not symbol_list:
                        all_current = self._get_all_current(cr_tuple)
                        symbol_list = [
                            r.id if isinstance(r, _Node) else r
                            for r in self._filter_for_lineage(all_current, branch_label)
                        ]
                    if len(symbol_list) != 1:
                        raise TargetError(
                            "relative",
                            f"'{target}' needs exactly one current revision on branch '{branch_label}'",
                            branch_label,
                        )
                    symbol = symbol_list[0]
                else:
                    current = _to_tuple(current_revisions)
                    if not current:
                        raise self._relative_out_of_range(relative)
                    symbol = current[0]
                    branch_label = symbol
            start = self._get_revision(
                symbol if branch_label is None else f"{branch_label}@{symbol}"
            )
            rev = self._walk(start=start, steps=rel_int, no_overwalk=assert_relative_length)
            if rev is None:
                if relative_revision:
                    raise self._relative_out_of_range(relative)
                raise TargetError("relative", f"'{target}' walks past the base (Walked too far)")
            return branch_label, rev
        branch_label, _, symbol = target.rpartition("@")
        return branch_label or None, self._get_revision(symbol)

    def _parse_upgrade_target(
        self, current_revisions: object, target: object, assert_relative_length: bool
    ) -> tuple[_Target, ...]:
        match = _RELATIVE_DESTINATION.match(target) if isinstance(target, str) else None
        if not match:
            return self._get_revisions(target)
        current_revisions_tup: tuple | None = _to_tuple(current_revisions)
        branch_label, symbol, relative_str = match.groups()
        relative = int(relative_str)
        if relative > 0:
            if symbol is None:
                if not current_revisions_tup:
                    current_revisions_tup = (None,)
                start_revs: Sequence = current_revisions_tup
                if branch_label:
                    start_revs = self._filter_for_lineage(
                        self._get_revisions(current_revisions_tup), branch_label
                    )
                    if not start_revs:
                        active_on_branch = self._filter_for_lineage(
                            self._get_ancestor_nodes(self._get_revisions(current_revisions_tup)),
                            branch_label,
                        )
                        start_revs = tuple(
                            {rev.id for rev in active_on_branch}
                            - {down for rev in active_on_branch for down in rev.normalized_down}
                        )
                        if not start_revs:
                            start_revs = (None,)
                if len(start_revs) > 1:
                    raise TargetError(
                        "relative",
                        "Ambiguous upgrade from multiple current revisions",
                        None,
                        candidates=[r.id if isinstance(r, _Node) else str(r) for r in start_revs],
                    )
                rev = self._walk(
                    start=start_revs[0],
                    steps=relative,
                    branch_label=branch_label,
                    no_overwalk=assert_relative_length,
                )
                if rev is None:
                    raise self._relative_out_of_range(relative_str)
                return (rev,)
            return (
                self._walk(
                    start=self._get_revision(symbol),
                    steps=relative,
                    branch_label=branch_label,
                    no_overwalk=assert_relative_length,
                ),
            )
        if symbol is None:
            raise self._relative_out_of_range(relative)
        return (
            self._walk(
                start=self._get_revision(
                    symbol if branch_label is None else f"{branch_label}@{symbol}"
                ),
                steps=relative,
                no_overwalk=assert_relative_length,
            ),
        )

    def _collect_downgrade_revisions(
        self,
        upper: object,
        lower: object,
        inclusive: bool,
        implicit_base: bool,
        assert_relative_length: bool,
    ) -> tuple[set[_Node], tuple[_Target, ...]]:
        branch_label, target_revision = self._parse_downgrade_target(
            current_revisions=upper, target=lower, assert_relative_length=assert_relative_length
        )
        if target_revision == _BASE:
            target_revision = None
        roots: list[_Node]
        if target_revision is None:
            roots = [
                rev for rev in self._map.values() if rev is not None and rev.down_revision is None
            ]
        elif inclusive:
            roots = [_node(target_revision)]
        else:
            roots = [_node(rev) for rev in self._get_revisions(_node(target_revision).nextrev)]
        if branch_label and len(roots) > 1:
            resolved_branch = self._resolve_branch(branch_label)
            ancestors = {
                rev.id
                for rev in self._get_ancestor_nodes([resolved_branch], include_dependencies=False)
            }
            roots = [
                _node(rev)
                for rev in self._get_revisions({rev.id for rev in roots}.intersection(ancestors))
            ]
            if not roots:
                raise TargetError(
                    "invalid", "Not a valid downgrade target from current heads", branch_label
                )
        heads = self._get_revisions(upper)
        downgrade_revisions = set(
            self._get_descendant_nodes(
                roots, include_dependencies=True, omit_immediate_dependencies=False
            )
        )
        active_revisions = set(self._get_ancestor_nodes(heads, include_dependencies=True))
        downgrade_revisions.intersection_update(active_revisions)
        if implicit_base:
            downgrade_revisions.update(active_revisions.difference(self._get_ancestor_nodes(roots)))
        if target_revision is not None and not downgrade_revisions and target_revision not in heads:
            raise TargetError("not-ancestor", "Nothing to drop", _node(target_revision).id)
        return downgrade_revisions, heads

    def _collect_upgrade_revisions(
        self,
        upper: object,
        lower: object,
        inclusive: bool,
        implicit_base: bool,
        assert_relative_length: bool,
    ) -> tuple[set[_Node], tuple[_Target, ...]]:
        parsed = self._parse_upgrade_target(
            current_revisions=lower, target=upper, assert_relative_length=assert_relative_length
        )
        _require_nodes(parsed, upper)
        targets: Collection[_Node] = [_node(rev) for rev in parsed]
        if isinstance(lower, str) and "@" in lower:
            branch, _, _ = lower.partition("@")
            branch_rev = self._get_revision(branch)
            if branch_rev is not None and branch_rev.id == branch:
                if len(branch_rev.branch_labels) != 1:
                    raise TargetError(
                        "invalid", f"Revision {branch} is not on exactly one branch", branch
                    )
                branch = next(iter(branch_rev.branch_labels))
            targets = {need for need in targets if branch in need.branch_labels}
        required_node_set = set(
            self._get_ancestor_nodes(targets, check=True, include_dependencies=True)
        ).union(targets)
        current_revisions = self._get_revisions(lower)
        if not implicit_base and any(
            rev not in required_node_set for rev in current_revisions if rev is not None
        ):
            raise TargetError(
                "not-ancestor",
                f"Revision {lower} is not an ancestor of revision {upper}",
                str(lower),
            )
        if current_revisions and current_revisions[0] is None:
            _, rev = self._parse_downgrade_target(
                current_revisions=upper, target=lower, assert_relative_length=assert_relative_length
            )
            if not rev:
                raise TargetError("invalid", f"'{lower}' does not denote a revision", str(lower))
            if rev == _BASE:
                current_revisions = ()
                lower = None
            else:
                current_revisions = (rev,)
                lower = _node(rev).id
        current_node_set = set(
            self._get_ancestor_nodes(current_revisions, check=True, include_dependencies=True)
        ).union(current_revisions)
        needs = required_node_set.difference(current_node_set)
        if inclusive:
            needs.update(_node(rev) for rev in self._get_revisions(lower))
        if current_revisions and not implicit_base:
            lower_descendents = self._get_descendant_nodes(
                [_node(rev) for rev in current_revisions], check=True, include_dependencies=False
            )
            needs.intersection_update(lower_descendents)
        return needs, tuple(targets)

    def _get_all_current(self, id_: object) -> set:
        top_revs = set(self._get_revisions(id_))
        top_revs.update(self._get_ancestor_nodes(list(top_revs), include_dependencies=True))
        return self._filter_into_branch_heads(top_revs)


def _node(target: object) -> _Node:
    """Alembic's `is_revision`: where Alembic asserts, a target that is not a revision is an error."""
    if not isinstance(target, _Node):
        raise TargetError(
            "invalid", f"{'base' if target == _BASE else 'nothing'} is not a revision here"
        )
    return target


def _require_nodes(targets: Sequence[_Target], target: object) -> None:
    if not all(isinstance(t, _Node) for t in targets):
        raise TargetError(
            "relative", f"'{target}' walks past the first or last revision", str(target)
        )


def _iterable(value: tuple | None) -> tuple:
    if value is None:
        raise TargetError("invalid", "no current revisions")
    return value


def _as_destination_error(error: TargetError, destination: str, command: str) -> TargetError:
    if error.kind != "not-ancestor":
        return error
    return TargetError(
        "not-ancestor",
        f"Destination {destination} is not a valid {command} target from current head(s)",
        destination,
    )
