"""Compile every revision file with the interpreter the migrations run on (`pants lint`).

The static pre-flight of `db-migrate` reads only revision headers (and reports their problems);
this is the full check of each file's body, done in the repo's own Python so syntax newer than
Pants' interpreter is judged right. The files come in one archive (`core/source_archive.py`).
Prints one JSON object: {"errors": [{"path", "line", "message"}]}.
"""

from __future__ import annotations

import json
from pathlib import Path

from db_migrate.core.contract import RunnerPlan, SyntaxOptions
from db_migrate.core.outcome import Outcome
from db_migrate.core.revision_file import RevisionFileError, compile_revision_file
from db_migrate.core.source_archive import unpack


def run(plan: RunnerPlan[SyntaxOptions], environ, outcome: Outcome) -> None:
    sources = unpack(Path(plan.options.archive).read_bytes())
    errors = []
    for path in plan.options.paths:
        try:
            compile_revision_file(path, sources[path])
        except RevisionFileError as e:
            errors.append({"path": e.path, "line": e.line or 0, "message": e.message})
    print(json.dumps({"errors": errors}, sort_keys=True))
    outcome.status = "ok"
