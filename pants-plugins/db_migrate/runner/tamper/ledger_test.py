from __future__ import annotations

import random

from db_migrate.core.applied import ChangedRevision, ancestor_counts, applied_revisions
from db_migrate.core.report import git_paths
from db_migrate.core.revision_file import Revision
from db_migrate.runner.tamper.ledger import changed_problem, work_in_progress

VERSIONS = "src/ai/backend/manager/models/alembic/versions"


def reformatted(count: int) -> list:
    """What a formatter run over versions/ leaves: every applied file differs from what ran."""
    return [
        ChangedRevision(
            f"{i:012x}", f"{VERSIONS}/{i:012x}_step.py", "a" * 64, "b" * 64, "2026-12-03 10:00 UTC"
        )
        for i in range(count)
    ]


def test_a_released_edit_names_every_file_while_few():
    problem = changed_problem(
        "manager", reformatted(2), "RETRY", {f"{i:012x}": "x" for i in range(2)}
    )
    assert problem.details[0] == "2 revision file(s) of manager differ from what the database ran:"
    assert len(problem.details) == 3
    assert f"git log -p -- {VERSIONS}/000000000000_step.py {VERSIONS}/000000000001_step.py" in (
        problem.actions[1]
    )


def test_a_mass_edit_is_counted_not_listed_and_its_git_command_can_run():
    changed = reformatted(5000)
    problem = changed_problem("manager", changed, "RETRY", {c.revision: "x" for c in changed})
    assert problem.details[0].startswith("5000 revision file(s) of manager differ")
    assert len(problem.details) == 1 + 10 + 1
    assert problem.details[-1] == "  ... and 4990 more (--output=json lists every changed revision)"
    assert problem.actions[1] == f"See what changed: git log -p -- {VERSIONS}"

    warning = work_in_progress("manager", changed, "in no release pin", "RERUN").splitlines()
    assert sum("changed since it ran" in line for line in warning) == 10
    assert "... and 4990 more" in warning[10]
    assert warning[-1] == "  To run the edit: RERUN"


def test_git_paths_of_files_in_two_folders_is_their_common_folder():
    assert git_paths(["a/v/1.py"]) == "a/v/1.py"
    assert git_paths(["a/v/1.py", "a/w/2.py", "a/v/3.py", "a/v/4.py"]) == "a"


def branchy(count: int, seed: int) -> list:
    """A random DAG: merges, forks, `depends_on` across branches, and a parent no file defines."""
    rng = random.Random(seed)
    facts = [Revision("r0", ("gone",), message="root", path="v/r0.py")]
    for i in range(1, count):
        earlier = [f.revision for f in facts[max(0, i - 8) :]]
        down = tuple(rng.sample(earlier, k=min(len(earlier), rng.choice((1, 1, 1, 2)))))
        depends = tuple(rng.sample(earlier, k=1)) if rng.random() < 0.1 else ()
        facts.append(
            Revision(f"r{i}", down, message=f"Do {i}", path=f"v/r{i}.py", depends_on=depends)
        )
    rng.shuffle(facts)  # in no particular order, like files on disk
    return facts


def test_ancestor_counts_are_the_sizes_of_each_revisions_ancestry():
    for seed in range(20):
        facts = branchy(60, seed)
        ids = [f.revision for f in random.Random(seed).sample(facts, 25)] + ["unknown"]
        counts = ancestor_counts(facts, ids)
        assert counts == {r: len(applied_revisions(facts, [r])) for r in ids}


def test_ancestor_counts_of_a_long_chain_need_no_recursion():
    chain = [Revision("c0")] + [Revision(f"c{i}", (f"c{i - 1}",)) for i in range(1, 5000)]
    counts = ancestor_counts(chain, [f.revision for f in chain])
    assert counts["c0"] == 1 and counts["c4999"] == 5000
