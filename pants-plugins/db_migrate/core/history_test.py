"""history.py: our glue around Alembic's RevisionMap (how its answers and errors reach the goals).

Runs in the Pants resolve (CPython 3.9, the Alembic the plugin imports inside Pants).
"""

from __future__ import annotations

import random

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)

from db_migrate.core.history import History, TargetError
from db_migrate.core.revision_file import Revision
from db_migrate.core.revision_graph import InvalidRevisionGraph
from db_migrate.core.revision_order import base_to_head_order


def rev(
    revision: str, *downs: str, labels: tuple[str, ...] = (), deps: tuple[str, ...] = ()
) -> Revision:
    return Revision(revision, downs, labels, deps, message=f"m {revision}", path=f"v/{revision}.py")


# a1aa - b2bb - c3cc [feat] - e5ee (merge of c3cc, d4dd)
#           \-- d4dd ------/
# f6ff [other] - g7gg (depends on c3cc)
HISTORY = [
    rev("a1aa"),
    rev("b2bb", "a1aa"),
    rev("c3cc", "b2bb", labels=("feat",)),
    rev("d4dd", "b2bb"),
    rev("e5ee", "c3cc", "d4dd"),
    rev("f6ff", labels=("other",)),
    rev("g7gg", "f6ff", deps=("c3cc",)),
]


@pytest.fixture
def history() -> History:
    return History(HISTORY)


def ids(revs) -> list:
    return [r.revision for r in revs]


def test_structure(history: History) -> None:
    assert (history.heads, history.bases) == (("e5ee", "g7gg"), ("a1aa", "f6ff"))
    assert history.get("c3cc") == HISTORY[2] and history.get("feat") is None
    assert "c3cc" in history and "feat" not in history and len(history) == 7
    assert ids(history.newest_first()) == ["e5ee", "g7gg", "f6ff", "c3cc", "d4dd", "b2bb", "a1aa"]
    assert ids(history.base_to_head()) == list(reversed(ids(history.newest_first())))


@pytest.mark.parametrize(
    "target, expected",
    [
        ("c3cc", ("c3cc",)),
        ("c3", ("c3cc",)),  # an unambiguous prefix
        ("heads", ("e5ee", "g7gg")),
        ("feat@head", ("e5ee",)),
        ("other@head", ("g7gg",)),
        ("feat", ("c3cc",)),
    ],
)
def test_resolve(history: History, target: str, expected: tuple) -> None:
    assert history.resolve(target) == expected


def error(history: History, target: str) -> TargetError:
    with pytest.raises(TargetError) as raised:
        history.resolve(target)
    return raised.value


def test_resolve_errors_say_what_kind(history: History) -> None:
    unknown = error(history, "c3cx")
    assert (unknown.kind, unknown.argument) == ("unknown", "c3cx")
    assert unknown.suggestions[0] == "c3cc"
    both = History([rev("abc1"), rev("abc2", "abc1")])
    ambiguous = error(both, "abc")
    assert (ambiguous.kind, ambiguous.candidates) == ("ambiguous", ("abc1", "abc2"))
    heads = error(history, "head")
    assert heads.kind == "multiple-heads" and set(heads.candidates) == {"e5ee", "g7gg"}


def test_upgrade_plans_are_alembics(history: History) -> None:
    assert ids(history.upgrade_plan("e5ee")) == ["a1aa", "b2bb", "d4dd", "c3cc", "e5ee"]
    assert ids(history.upgrade_plan("heads", ("c3cc",))) == ["f6ff", "g7gg", "d4dd", "e5ee"]
    assert history.upgrade_plan("heads", ("e5ee", "g7gg")) == ()
    with pytest.raises(TargetError):
        history.upgrade_plan("heads", ("nope",))


def test_depends_on_orders_the_plan() -> None:
    history = History([rev("a1aa"), rev("b2bb"), rev("c3cc", "b2bb", deps=("a1aa",))])
    assert history.heads == ("a1aa", "c3cc")
    assert ids(history.upgrade_plan("heads")) == ["a1aa", "b2bb", "c3cc"]


def test_closest(history: History) -> None:
    assert history.closest("c3c") == ("c3cc",)
    assert history.closest("fet") == ("feat",)
    assert history.closest("zzzzzz") == ()


def test_a_broken_history_is_refused_with_every_problem() -> None:
    with pytest.raises(InvalidRevisionGraph) as raised:
        History([rev("a1aa", "gone"), rev("b2bb", "b2bb")])
    assert {p.kind for p in raised.value.problems} == {"missing-revision", "cycle"}


def test_empty_history() -> None:
    history = History([])
    assert (history.heads, history.bases, history.newest_first()) == ((), (), ())
    assert history.upgrade_plan("heads") == ()


def parents_first(ordered) -> bool:
    """Every revision comes after each revision it names (`down_revision` and `depends_on`)."""
    seen: set = set()
    for r in ordered:
        if any(ref not in seen for ref in (*r.down_revisions, *r.depends_on)):
            return False
        seen.add(r.revision)
    return True


def test_base_to_head_order_puts_parents_first_like_alembic() -> None:
    rng = random.Random(7)
    for _ in range(20):
        shuffled = HISTORY[:]
        rng.shuffle(shuffled)  # files come in any order
        ordered = base_to_head_order(shuffled)
        assert sorted(ids(ordered)) == sorted(ids(HISTORY)) and parents_first(ordered)
        assert parents_first(History(shuffled).base_to_head())  # what Alembic's order promises too
    chain = [rev("a1aa"), rev("b2bb", "a1aa"), rev("c3cc", "b2bb")]
    assert ids(base_to_head_order(chain[::-1])) == ids(History(chain).base_to_head())
