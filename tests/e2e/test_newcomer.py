"""What a newcomer meets following the README: `pants help`, `pants peek`, the docs it points to.

Through `./pants` in the session's repo copy, as typed; none of these touch a database.
"""

from __future__ import annotations

import json
import re

MIGRATIONS = "src/ai/backend/manager/models/alembic:migrations"
# What peek shows of a target that is not one of its fields.
NOT_FIELDS = {"address", "target_type", "dependencies_raw", "sources_raw", "sources_fingerprint"}


def option_help(help_text: str, option: str) -> str:
    """One option's block of `pants help GOAL`, its lines joined (help wraps at any word)."""
    match = re.search(rf"^  --{re.escape(option)}=.*?(?=^  --|\Z)", help_text, re.M | re.S)
    assert match, help_text
    return " ".join(match.group(0).split())


def test_help_explains_the_target_and_every_field(repo):
    peek = repo.run("peek", MIGRATIONS)
    assert peek.returncode == 0, peek
    (target,) = json.loads(peek.stdout)
    fields = sorted(set(target) - NOT_FIELDS)
    assert {"component", "alembic_config", "release_pins", "verify_skip"} <= set(fields)

    result = repo.run("help", "alembic_migrations")
    assert result.returncode == 0, result
    assert "`alembic_migrations` target" in result.stdout
    assert "[ERROR]" not in result.stderr, result
    for field in fields:
        block = re.search(rf"^{re.escape(field)}\n(.*?)(?=^\S|\Z)", result.stdout, re.M | re.S)
        assert block, f"{field} is not described:\n{result.stdout}"
        assert "type:" in block.group(1), block.group(0)
    assert "component\n    type: str\n    required" in result.stdout, result.stdout

    everything = repo.run("help", "targets")
    assert everything.returncode == 0, everything
    assert re.search(r"^alembic_migrations\s+A database component", everything.stdout, re.M)


def test_db_migrate_help_names_every_target_form_the_parser_accepts(repo):
    result = repo.run("help", "db-migrate")
    assert result.returncode == 0, result
    target = option_help(result.stdout, "db-migrate-target")
    for form in ("head", "base", "+N", "-N", "REV+N", "LABEL@head", "release:NAME", "FROM:TO"):
        assert f"`{form}`" in target, target
    # The forms it names work as written (offline: no database needed), the example range too.
    assert "`release:24.09.0:head`" in target, target
    for accepted in ("release:25.03.0", "base:release:24.09.0", "release:24.09.0:head"):
        sql = repo.run("db-migrate", "--sql", f"--target={accepted}", "src/ai/backend/manager::")
        assert sql.returncode == 0, sql
        assert sql.stdout.startswith("-- pants db-migrate --sql: manager upgrade "), sql
        assert "Invalid target" not in sql.output, sql


def test_peek_of_a_component_is_tidy(repo):
    """Every file is owned by the target that means it, once; the whole-repository target the
    end-to-end tests copy owns no source here and drags no dependency list into every entry."""
    result = repo.run("peek", "src/ai/backend/manager::")
    assert result.returncode == 0, result
    targets = json.loads(result.stdout)
    revisions = [
        source for t in targets for source in t.get("sources", ()) if "/alembic/versions/" in source
    ]
    assert revisions and len(revisions) == len(set(revisions)), revisions
    for t in targets:
        if t["address"].startswith("//"):  # the root BUILD's targets
            assert all(s.endswith("/BUILD") for s in t.get("sources", ())), t
            assert not t.get("dependencies"), t


def test_the_specification_the_readme_points_at_is_in_the_repository(repo):
    readme = repo.read("README.md")
    pointed = set(re.findall(r"`(docs/[\w./-]+\.md)", readme))
    assert "docs/specification.md" in pointed, pointed
    assert all((repo.root / path).is_file() for path in pointed), pointed
    texts = [readme, *(p.read_text() for p in (repo.root / "docs").glob("*.md"))]
    assert not [t for t in texts if "shared/seed" in t or "../" in t]
    spec = repo.read("docs/specification.md")
    for section in ("## Parameters", "## Pre-flight checks", "## Output", "## Errors", "## Safety"):
        assert section in spec
    # Its error catalogue names every error title the README's examples show.
    for title in re.findall(r"`❌ Error: ([A-Z][a-z]+(?: [a-z]+)+)", readme):
        assert title in spec, title
    help_text = repo.run("help", "db-migrations")
    assert help_text.returncode == 0 and "docs/specification.md" in help_text.stdout, help_text
