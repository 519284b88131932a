"""`alembic_ini`'s reading of `script_location` equals Alembic's own, for all three forms.

Runs in the repo's resolve (CPython 3.11, Alembic installed): each case writes an ini and a
package into a temporary build root and compares where we say the scripts are with where
`ScriptDirectory.from_config(Config(ini))` finds them, with the build root as working directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from db_migrate.core.alembic_ini import AlembicIniError, parse_alembic_ini

CASES = [
    ("alembic.ini", "%(here)s/src/pkg/migrations"),
    ("configs/alembic.ini", "%(here)s/../src/pkg/migrations"),
    ("configs/alembic.ini", "src/pkg/migrations"),  # relative to the working directory
    ("alembic.ini", "./src/pkg/migrations"),
    ("configs/alembic.ini", "pkg:migrations"),  # a package resource
    ("alembic.ini", "pkg.sub:alembic"),
]


@pytest.fixture
def build_root(tmp_path, monkeypatch):
    for folder in ("src/pkg/migrations", "src/pkg/sub/alembic"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "env.py").write_text("")
    (tmp_path / "src/pkg/__init__.py").write_text("")
    (tmp_path / "src/pkg/sub/__init__.py").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    yield tmp_path
    for name in [m for m in sys.modules if m == "pkg" or m.startswith("pkg.")]:
        del sys.modules[name]


@pytest.mark.parametrize("ini_path, location", CASES)
def test_we_find_the_scripts_where_alembic_does(build_root, ini_path, location):
    ini = build_root / ini_path
    ini.parent.mkdir(parents=True, exist_ok=True)
    ini.write_text(f"[alembic]\nscript_location = {location}\n")
    alembic_dir = os.path.relpath(ScriptDirectory.from_config(Config(str(ini))).dir, build_root)

    parsed = parse_alembic_ini(ini_path, ini.read_text())
    ours = parsed.script_dir()
    if ours is None:  # a package resource: the first source root that holds it
        found = [c for c in parsed.location.candidates(["tests", "src"]) if Path(c).is_dir()]
        ours = found[0]
    assert os.path.normpath(ours) == os.path.normpath(alembic_dir)


@pytest.mark.parametrize(
    "location, why",
    [
        ("/abs/path", "absolute"),
        ("not-a.package:dir", "not a Python package name"),
        ("pkg:", "names no directory"),
        ("", "no `script_location`"),
    ],
)
def test_what_we_cannot_resolve_statically_is_an_error(location, why):
    with pytest.raises(AlembicIniError, match=why):
        parse_alembic_ini("alembic.ini", f"[alembic]\nscript_location = {location}\n")
