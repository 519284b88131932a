"""Where code runs is the folder it is in: a file's imports must not cross its world's boundary.

- `core/` is imported by both worlds: no Pants, no runner, no plugin module outside `core/`, and
  Python 3.9 syntax (the plugin's interpreter).
- `runner/` runs in the repo's environment: it imports `core/` and itself, never Pants or the
  plugin's own modules.
- Everything else runs inside Pants and never imports the runner (another interpreter's code).

Read from the files (the AST), so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Tuple

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)

PACKAGE = Path(__file__).resolve().parent


def modules(folder: str = "") -> Tuple[Path, ...]:
    """The package's modules (tests and fixtures aside) under `folder`."""
    return tuple(
        p
        for p in sorted((PACKAGE / folder).rglob("*.py"))
        if not p.name.endswith("_test.py") and p.name != "conftest.py"
    )


def imported(path: Path, root: Path = PACKAGE) -> Iterator[Tuple[int, str]]:
    """(line, module) of every import in `path` (a module of the package at `root`), relative
    imports resolved."""
    tree = ast.parse(path.read_text(), str(path))
    package = ".".join(("db_migrate", *path.relative_to(root).parent.parts))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            yield node.lineno, base
            if base in ("db_migrate", "db_migrate.runner"):  # `from db_migrate import core`
                yield from ((node.lineno, f"{base}.{alias.name}") for alias in node.names)


def crossings(paths, allowed) -> list:
    return [
        f"{p.relative_to(PACKAGE)}:{line}: imports {name}"
        for p in paths
        for line, name in imported(p)
        if not allowed(name)
    ]


def _top(name: str) -> str:
    return name.split(".")[0]


def test_there_is_something_to_check() -> None:
    assert len(modules("core")) >= 5 and len(modules("runner")) >= 20 and len(modules()) >= 60


def test_core_imports_neither_pants_nor_either_side() -> None:
    def allowed(name: str) -> bool:
        if _top(name) == "pants":
            return False
        return not name.startswith("db_migrate") or name.startswith("db_migrate.core")

    assert crossings(modules("core"), allowed) == []


@pytest.mark.parametrize("path", modules("core"), ids=lambda p: p.name)
def test_core_is_python_3_9(path: Path) -> None:
    ast.parse(path.read_text(), str(path), feature_version=(3, 9))


def test_the_runner_imports_only_core_and_itself() -> None:
    def allowed(name: str) -> bool:
        if _top(name) == "pants":
            return False
        if not name.startswith("db_migrate"):
            return True
        return name.startswith(("db_migrate.core", "db_migrate.runner"))

    assert crossings(modules("runner"), allowed) == []


def test_the_plugin_never_imports_the_runner() -> None:
    plugin = [p for p in modules() if not p.is_relative_to(PACKAGE / "runner")]
    assert crossings(plugin, lambda name: not name.startswith("db_migrate.runner")) == []


def test_the_check_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    """The checks above can fail: an import inside a function, and a relative one, are seen."""
    planted = tmp_path / "core" / "planted.py"
    planted.parent.mkdir()
    planted.write_text(
        "def f():\n    from pants.engine.rules import rule\n\nfrom ..runner import lock\n"
    )
    assert sorted(imported(planted, tmp_path)) == [
        (2, "pants.engine.rules"),
        (4, "db_migrate.runner"),
        (4, "db_migrate.runner.lock"),
    ]
