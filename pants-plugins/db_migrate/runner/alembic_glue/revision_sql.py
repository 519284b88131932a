"""One revision's SQL alone, upgrade and downgrade, in Alembic's offline mode (`pants lint`).

The sandbox holds this one revision file and none of its history, so editing another revision
never changes this revision's inputs. Alembic cannot build a history with a `down_revision` it
cannot find, so each parent (and `depends_on` target) gets an empty stand-in revision with no
parent of its own. Alembic then runs through the component's own `env.py` (`command.upgrade` /
`command.downgrade` with `sql=True`, exactly as `db-migrate --sql`), and every statement it
writes is kept only when the revision's `upgrade()`/`downgrade()` is on the stack; the innermost
frame in the revision file is the line of the Alembic op that wrote it. What Alembic writes
around it (the version table, env.py's per-migration `BEGIN`/`COMMIT`) is dropped, but whether
the revision starts inside a transaction is recorded.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

STUB_PREFIX = "_migration_safety_parent_"
STUB = '''"""Stand-in for {revision} (the lint renders one revision alone)."""
revision = {revision!r}
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
'''


@dataclass(frozen=True)
class Statement:
    sql: str  # as Alembic wrote it, terminator included
    line: Optional[int]  # the line in the revision file of the op that wrote it


@dataclass
class RenderedSql:
    direction: str  # upgrade | downgrade
    statements: List[Statement] = field(default_factory=list)
    in_transaction: bool = False  # the revision's code starts inside a transaction


class _Capture:
    """The output buffer Alembic writes to: keeps the revision's own statements, with their line."""

    def __init__(self, revision_file: str, rendered: RenderedSql) -> None:
        self._file = os.path.realpath(revision_file)
        self._rendered = rendered
        self._open = False
        self._started = False
        self._files: dict = {}

    def _in_revision(self, filename: str) -> bool:
        known = self._files.get(filename)
        if known is None:
            known = self._files[filename] = os.path.realpath(filename) == self._file
        return known

    def _op_line(self) -> Optional[int]:
        frame = sys._getframe(1)
        while frame is not None:
            if self._in_revision(frame.f_code.co_filename):
                return frame.f_lineno
            frame = frame.f_back
        return None

    def write(self, text: str) -> None:
        sql = text.strip()
        if not sql:
            return
        line = self._op_line()
        if line is None:
            word = sql.rstrip(";").strip().upper()
            if word in ("BEGIN", "START TRANSACTION"):
                self._open = True
            elif word in ("COMMIT", "ROLLBACK"):
                self._open = False
            return
        if not self._started:
            self._started = True
            self._rendered.in_transaction = self._open
        self._rendered.statements.append(Statement(sql, line))

    def flush(self) -> None:
        pass


def write_stubs(revision_file: str, parents: Sequence[str]) -> Tuple[str, ...]:
    """Empty stand-ins for the revisions this one names, next to it (the sandbox has no others)."""
    directory = Path(revision_file).parent
    written = []
    for parent in parents:
        path = directory / f"{STUB_PREFIX}{parent}.py"
        path.write_text(STUB.format(revision=parent))
        written.append(str(path))
    return tuple(written)


def render(config_path: str, revision: str, revision_file: str, direction: str) -> RenderedSql:
    """The SQL `direction` of `revision` writes, through the component's env.py in offline mode.

    Errors of the user's code (env.py, the models, the revision) propagate as they are, for the
    caller to report with their file and line.
    """
    from alembic import command
    from alembic.config import Config

    rendered = RenderedSql(direction)
    config = Config(config_path, output_buffer=_Capture(revision_file, rendered))
    config.attributes["configure_logger"] = False
    with contextlib.redirect_stdout(sys.stderr):
        if direction == "upgrade":
            command.upgrade(config, revision, sql=True)
        else:
            command.downgrade(config, f"{revision}:base", sql=True)
    return rendered
