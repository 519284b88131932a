"""Alembic revision files read without importing them.

Pure (standard library only, Python 3.9 syntax): the Pants side (3.9) imports it to check a component
before anything touches a database, and the runner (3.11) imports it too, so it must stay cheap to
import (no Alembic here; the graph itself is Alembic's `RevisionMap`, built in `history.py`; what
is wrong with a set of revisions is `revision_graph.py`).

One header reader, `read_revision_header`: the file's AST, read for what each header name is
bound to (a regex reader beside it proved a few ms per file faster, under 10% of any `./pants`
run it served: docs/benchmarks.md, `speed_code`).
`parse_revision_file` adds a compile of the whole file, for the checks that need every syntax error.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from dataclasses import dataclass

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
    # The sha256 of the file's content when the reader was given it (the plugin's pre-flight,
    # from Pants' digest): what tamper detection compares with the checksum a database recorded.
    checksum: str = ""


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
    """The header as `read_revision_header` reads it, after compiling the whole file as `import` does.

    Every error Python raises before running the file (syntax, indentation, `return` outside a
    function, bad encoding, ...) is reported with its line: for files the runner writes. (`pants
    lint` compiles with `compile_revision_file` alone: the plugin has read the headers already.)
    """
    compile_revision_file(path, source)
    return read_revision_header(path, source)


def compile_revision_file(path: str, source: str | bytes) -> None:
    """Compile the whole file as `import` would, raising what Python raises as a `RevisionFileError`.

    `pants lint`'s syntax check needs only this: the header of every file is already read (and its
    problems reported) by the plugin, so reading it again there would be work thrown away.
    """
    try:
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as e:
        raise RevisionFileError(path, e.lineno, f"{type(e).__name__}: {e.msg}") from None
    except ValueError as e:  # null bytes on Python 3.9
        raise RevisionFileError(path, None, f"cannot compile: {e}") from None


def read_revision_header(path: str, source: str | bytes, checksum: str = "") -> Revision:
    """What importing the file would bind `revision`, `down_revision`, `branch_labels`, `depends_on`
    and `__doc__` to, without running (or compiling) it: the static pre-flight's reader.

    It reads plain module-level literals and refuses every other binding of a header name (a name
    rebound in a block, imported, unpacked, augmented, declared `global`, ...) as unreadable: it
    never answers differently from Python. Compiling the whole file, for every syntax error, is
    `pants lint`'s (and Alembic's) job.
    `checksum`: the sha256 of `source`, when the caller has it, carried by the revision.
    """
    text = _decode(path, source)
    values, docstring = _header_from_ast(path, text)
    return _revision_from_header(path, values, docstring, checksum)


_HEADER_NAMES = ("revision", "down_revision", "branch_labels", "depends_on")


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_NONE = _Marker("None")  # `name = None`, told apart from a name not bound at all
_NOT_LITERAL = _Marker("<not a literal>")  # bound to something that cannot be read statically


def _decode(path: str, source: str | bytes) -> str:
    """Source text as Python decodes it (BOM, coding cookie, universal newlines)."""
    if isinstance(source, bytes):
        try:
            if b"coding" in b"\n".join(source.split(b"\n", 2)[:2]):
                encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
                text = source.decode(encoding)
            else:
                text = source.decode("utf-8")
        except (SyntaxError, LookupError) as e:
            raise RevisionFileError(path, 1, f"SyntaxError: {e}") from None
        except UnicodeDecodeError as e:
            line = source[: e.start].count(b"\n") + 1
            raise RevisionFileError(path, line, f"SyntaxError: cannot decode: {e.reason}") from None
    else:
        text = source
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


_BOUND_HERE = ("__doc__", *_HEADER_NAMES)
# Ways to bind a module's names without naming them as targets.
_DYNAMIC_BINDERS = {"globals", "vars", "locals", "exec", "eval", "setattr", "__dict__", "modules"}


def _header_from_ast(path: str, text: str) -> tuple[dict, str | None]:
    """(header values, docstring) from the AST: the last plain module-level literal binding wins;
    any other binding of a header name, anywhere it can reach the module's namespace, is unreadable.
    """
    try:
        tree = ast.parse(text, path)
    except SyntaxError as e:
        raise RevisionFileError(path, e.lineno, f"{type(e).__name__}: {e.msg}") from None
    except ValueError as e:
        raise RevisionFileError(path, None, f"cannot compile: {e}") from None
    docstring = ast.get_docstring(tree, clean=False)
    values: dict = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
            continue  # `revision: str` only annotates
        names, value = _plain_assignment(stmt)
        for name in names:
            if name in _BOUND_HERE:
                values[name] = (_literal(value), stmt.lineno)
        for name in _bound_names(stmt if not names else value).intersection(_BOUND_HERE):
            values[name] = (_NOT_LITERAL, stmt.lineno)
    for name, line in _indirect_bindings(tree, text):
        values[name] = (_NOT_LITERAL, line)
    if "__doc__" in values:
        doc, line = values.pop("__doc__")
        if not isinstance(doc, str) and doc is not _NONE:
            raise RevisionFileError(path, line, "`__doc__` must be a string literal")
        docstring = doc if isinstance(doc, str) else None
    return values, docstring


def _plain_assignment(stmt: ast.stmt) -> tuple[list, ast.AST]:
    """(names, value) of `a = b = <value>` / `a: T = <value>` with plain names; ([], stmt) otherwise."""
    if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
        return [t.id for t in stmt.targets], stmt.value  # type: ignore[attr-defined]
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
        return [stmt.target.id], stmt.value
    return [], stmt


# Every word `_indirect_bindings` acts on: `global` and the dynamic binders. Python NFKC-normalizes
# identifiers, so only an ASCII text is sure to spell each of them so when it holds one.
_INDIRECT_WORDS = re.compile(
    r"\b(?:global|%s)\b" % "|".join(sorted(map(re.escape, _DYNAMIC_BINDERS)))
)


def _indirect_bindings(tree: ast.Module, text: str) -> list[tuple[str, int]]:
    """Header names a `global` statement lets a function or class bind, and header names written
    as strings in a module that reaches its namespace dynamically (`globals()[...]`, `setattr`).

    An ASCII text with none of those words (most revision files) has neither, and the walk of the
    whole tree is skipped: it was half the reader's time (10,000 generated revisions read in 3.6 to
    4.4 s with the walk, 1.7 to 1.9 s without, on Pants' CPython 3.9).
    """
    if text.isascii() and not _INDIRECT_WORDS.search(text):
        return []
    found = []
    dynamic = False
    strings = []
    docstring = tree.body[0].value if ast.get_docstring(tree, clean=False) is not None else None
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found += [(name, node.lineno) for name in node.names if name in _BOUND_HERE]
        elif (isinstance(node, ast.Name) and node.id in _DYNAMIC_BINDERS) or (
            isinstance(node, ast.Attribute) and node.attr in _DYNAMIC_BINDERS
        ):
            dynamic = True
        elif isinstance(node, ast.Constant) and node is not docstring and node.value in _BOUND_HERE:
            strings.append((node.value, node.lineno))
    return found + (strings if dynamic else [])


def _literal(node: ast.AST) -> object:
    try:
        value = ast.literal_eval(node)  # type: ignore[arg-type]
    except (ValueError, TypeError, RecursionError, SyntaxError):
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
            # The body runs later, in its own scope; decorators, defaults and annotations run now.
            names.add(n.name)
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
        elif isinstance(n, ast.comprehension):
            # Its target is the comprehension's own; a walrus in its conditions binds here.
            todo.extend([n.iter, *n.ifs])
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


def _revision_from_header(
    path: str, values: dict, docstring: str | None, checksum: str = ""
) -> Revision:
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
        checksum=checksum,
    )


def _value(path: str, values: dict, name: str) -> tuple:
    value, line = values.get(name, (_NONE, None))
    if value is _NOT_LITERAL:
        raise RevisionFileError(
            path,
            line,
            f"`{name}` is not a plain literal assignment; it must be readable without running the file",
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
