from __future__ import annotations

import pytest

from db_migrate.core.history import History
from db_migrate.core.revision_file import Revision, parse_revision_file
from db_migrate.runner.rebase_plan import (
    MERGE,
    REBASE,
    RewriteError,
    StrategyRefused,
    apply_edits,
    choose_strategy,
    format_down_revision,
    merge_message,
    rebase_edits,
    repoint_text,
    split_branches,
)

V = "versions"


def rev(revision: str, *down: str) -> Revision:
    return Revision(
        revision=revision,
        down_revisions=tuple(down),
        message=f"msg {revision}",
        path=f"{V}/{revision}.py",
    )


# base -> a -> b (fork) -> x1 (main's new work)
#                     \-> y1 -> y2 (my branch)
HISTORY = (rev("a"), rev("b", "a"), rev("x1", "b"), rev("y1", "b"), rev("y2", "y1"))


def ordered(revisions=HISTORY):
    return History(revisions).base_to_head()


def test_split_branches_finds_each_heads_own_revisions_roots_and_fork():
    branches = {b.head: b for b in split_branches(ordered(), ("x1", "y2"))}
    assert branches["y2"].own == ("y1", "y2")
    assert branches["y2"].roots == ("y1",)
    assert branches["y2"].forks == ("b",)
    assert branches["x1"].own == ("x1",)
    assert branches["y2"].on_base is None  # no base ref given


def test_on_base_is_true_false_or_mixed():
    on_main = {f"{V}/a.py", f"{V}/b.py", f"{V}/x1.py", f"{V}/y1.py"}
    branches = {b.head: b for b in split_branches(ordered(), ("x1", "y2"), on_main)}
    assert branches["x1"].on_base is True
    assert branches["y2"].on_base is None  # y1 released, y2 not
    branches = {
        b.head: b for b in split_branches(ordered(), ("x1", "y2"), on_main - {f"{V}/y1.py"})
    }
    assert branches["y2"].on_base is False


def test_auto_rebases_the_only_local_branch_onto_the_shared_head():
    on_main = {f"{V}/a.py", f"{V}/b.py", f"{V}/x1.py"}
    choice = choose_strategy("auto", split_branches(ordered(), ("x1", "y2"), on_main), "main")
    assert choice.strategy == REBASE
    assert choice.branch.head == "y2" and choice.onto == "x1"
    assert "not on main" in choice.reason and "your own work" in choice.reason


def test_auto_merges_when_every_head_is_released():
    on_main = {f"{V}/{r.revision}.py" for r in HISTORY}
    choice = choose_strategy("auto", split_branches(ordered(), ("x1", "y2"), on_main), "main")
    assert choice.strategy == MERGE
    assert "every head is on main" in choice.reason


@pytest.mark.parametrize(
    "on_main, reason",
    [
        ({f"{V}/a.py", f"{V}/b.py"}, "2 heads have revisions that are not on main"),
        ({f"{V}/a.py", f"{V}/b.py", f"{V}/x1.py", f"{V}/y1.py"}, "is partly on main"),
    ],
)
def test_auto_merges_when_no_single_branch_is_yours(on_main, reason):
    choice = choose_strategy("auto", split_branches(ordered(), ("x1", "y2"), on_main), "main")
    assert choice.strategy == MERGE and reason in choice.reason
    with pytest.raises(StrategyRefused, match="--strategy=rebase"):
        choose_strategy("rebase", split_branches(ordered(), ("x1", "y2"), on_main), "main")


def test_merge_needs_no_base_ref_and_auto_refuses_without_one():
    branches = split_branches(ordered(), ("x1", "y2"))
    assert choose_strategy("merge", branches, "main", "unknown revision `main`").strategy == MERGE
    with pytest.raises(StrategyRefused, match="unknown revision"):
        choose_strategy("auto", branches, "main", "unknown revision `main`")


def test_three_heads_merge():
    history = HISTORY + (rev("z1", "a"),)
    on_main = {f"{V}/{r.revision}.py" for r in history} - {f"{V}/y1.py", f"{V}/y2.py"}
    choice = choose_strategy(
        "auto", split_branches(ordered(history), ("x1", "y2", "z1"), on_main), "main"
    )
    assert choice.strategy == MERGE


def test_rebase_edits_repoint_the_root_and_yield_a_single_head():
    branch = next(b for b in split_branches(ordered(), ("x1", "y2")) if b.head == "y2")
    edits = rebase_edits(ordered(), branch, "x1")
    assert [(e.revision, e.old_down, e.new_down) for e in edits] == [("y1", ("b",), ("x1",))]
    after = History(apply_edits(ordered(), edits))
    assert after.heads == ("y2",)
    assert [r.revision for r in after.upgrade_plan("head", ())] == ["a", "b", "x1", "y1", "y2"]


def test_rebase_of_a_branch_that_merges_inside_itself_keeps_its_inner_parents():
    history = (rev("a"), rev("x1", "a"), rev("y1", "a"), rev("y2", "a"), rev("y3", "y1", "y2"))
    branch = next(b for b in split_branches(ordered(history), ("x1", "y3")) if b.head == "y3")
    assert set(branch.roots) == {"y1", "y2"}
    edits = rebase_edits(ordered(history), branch, "x1")
    assert {e.revision: e.new_down for e in edits} == {"y1": ("x1",), "y2": ("x1",)}
    assert History(apply_edits(ordered(history), edits)).heads == ("y3",)


def test_merge_message_names_what_it_joins():
    assert (
        merge_message([("abc", "Add foo"), ("def", "Add bar")])
        == "Merge abc (Add foo) and def (Add bar)"
    )
    assert merge_message([("a", ""), ("b", "B"), ("c", "C")]) == "Merge a, b (B) and c (C)"


TEMPLATE_FILE = '''"""Add nickname

Revision ID: y1
Revises: b
Create Date: 2024-01-01 00:00:00

"""
from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'y1'
down_revision: Union[str, Sequence[str], None] = 'b'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Revises: b stays as it is here."""
    op.execute("SELECT 'b'")


def downgrade() -> None:
    pass
'''


def test_repoint_text_rewrites_down_revision_and_revises_line_only():
    out = repoint_text(TEMPLATE_FILE, ("x1",))
    assert "down_revision: Union[str, Sequence[str], None] = 'x1'\n" in out
    assert "\nRevises: x1\n" in out
    assert "revision: str = 'y1'" in out and "Revision ID: y1" in out
    assert '"""Revises: b stays as it is here."""' in out  # not the module docstring
    assert "op.execute(\"SELECT 'b'\")" in out
    assert parse_revision_file("y1.py", out).down_revisions == ("x1",)
    # Exactly two places changed.
    changed = [(a, b) for a, b in zip(TEMPLATE_FILE.splitlines(), out.splitlines()) if a != b]
    assert len(changed) == 2 and len(TEMPLATE_FILE.splitlines()) == len(out.splitlines())


def test_repoint_text_handles_double_quotes_tuples_and_multiline_values():
    text = (
        '"""Merge\n\nRevision ID: m\nRevises: a, b\n"""\n'
        'revision = "m"\n'
        'down_revision = (\n    "a",\n    "b",\n)\n'
        "branch_labels = None\n"
    )
    out = repoint_text(text, ("c", "d"))
    assert 'down_revision = ("c", "d")\nbranch_labels = None\n' in out
    assert "Revises: c, d\n" in out
    assert parse_revision_file("m.py", out).down_revisions == ("c", "d")


def test_repoint_text_with_non_ascii_before_the_value():
    text = '"""Ünïcödé – message\n\nRevises: b\n"""\nrevision = "y1"\ndown_revision = "b"  # ← parent\n'
    out = repoint_text(text, ("x1",))
    assert out.endswith('down_revision = "x1"  # ← parent\n')
    assert "Revises: x1" in out


def test_repoint_text_without_revises_line_or_with_the_last_assignment_winning():
    text = 'revision = "y1"\ndown_revision = "a"\ndown_revision = "b"\n'
    assert (
        repoint_text(text, ("x1",))
        == 'revision = "y1"\ndown_revision = "a"\ndown_revision = "x1"\n'
    )


@pytest.mark.parametrize(
    "text, why",
    [
        ('revision = "y1"\n', "no module-level"),
        ('revision = "y1"\ndown_revision = revision = "b"\n', "together with other names"),
        ('revision = "y1"\ndown_revision = (\n', "does not parse"),
    ],
)
def test_repoint_text_refuses_what_it_cannot_edit_safely(text, why):
    with pytest.raises(RewriteError, match=why):
        repoint_text(text, ("x1",))


def test_format_down_revision():
    assert format_down_revision(()) == "None"
    assert format_down_revision(("a",), "'") == "'a'"
    assert format_down_revision(("a", "b")) == '("a", "b")'
