from __future__ import annotations

from types import SimpleNamespace

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)

from db_migrate.goals.migrate import _option_problem, accept_problem, user_flags


def options(**given) -> SimpleNamespace:
    """db-migrate's options as the goal reads them: the defaults, and what a test gives."""
    defaults = {
        "accept_changed": False,
        "reason": None,
        "from_snapshot": False,
        "snapshot_template": False,
        "direction": "upgrade",
        "target": None,
        "sql": False,
        "sql_file": None,
        "allow_changed": False,
        "lock_retries": None,
        "lock_timeout": 60,
        "backup": True,
        "allow_active_sessions": False,
        "base_ref": "main",
    }
    return SimpleNamespace(**{**defaults, **given})


def test_accepting_needs_a_reason():
    for reason in (None, "", "   "):
        problem = accept_problem(options(accept_changed=True, reason=reason))
        assert problem is not None and problem.kind == "missing_reason", reason
        assert "--reason" in problem.render()
    assert accept_problem(options(accept_changed=True, reason="Black reformat")) is None
    assert accept_problem(options()) is None


def test_a_reason_alone_is_refused_rather_than_ignored():
    problem = accept_problem(options(reason="reformat"))
    assert problem is not None and problem.title == "--reason without --accept-changed"


@pytest.mark.parametrize(
    "given, flag",
    [
        ({"direction": "downgrade"}, "--direction=downgrade"),
        ({"target": "-1"}, "--target=-1"),
        ({"sql": True}, "--sql"),
        ({"sql_file": "x.sql"}, "--sql"),
        ({"allow_changed": True}, "--allow-changed"),
    ],
)
def test_accepting_moves_no_database(given, flag):
    problem = accept_problem(options(accept_changed=True, reason="ok", **given))
    assert problem is not None and problem.kind == "invalid_option"
    assert problem.title == f"--accept-changed runs no migration: {flag} does not go with it"


def test_lock_retries_below_zero_are_refused_and_given_ones_are_kept_in_suggestions():
    problem = _option_problem(options(lock_retries=-1), "upgrade", ("head",))
    assert problem is not None and problem.kind == "invalid_option"
    assert _option_problem(options(lock_retries=0), "upgrade", ("head",)) is None
    assert "--lock-retries=0" in user_flags(options(lock_retries=0))
    assert not any(f.startswith("--lock-retries") for f in user_flags(options()))


def test_from_snapshot_needs_an_absolute_upgrade_target():
    for given, parts in (
        ({"target": "+1"}, ("+1",)),
        ({"target": "base"}, ("base",)),
        ({"direction": "downgrade", "target": "abc"}, ("abc",)),
        ({"sql": True}, ("head",)),
    ):
        direction = given.get("direction", "upgrade")
        problem = _option_problem(options(from_snapshot=True, **given), direction, parts)
        assert problem is not None and problem.kind == "invalid_option", given
        assert problem.title.startswith("--from-snapshot does not go with"), given
    for target in (None, "head", "release:24.09.0", "ddc0eca", "branch@head"):
        given = options(from_snapshot=True, target=target)
        assert _option_problem(given, "upgrade", (target or "head",)) is None, target


def test_a_snapshot_template_without_a_snapshot_is_refused_rather_than_ignored():
    problem = _option_problem(options(snapshot_template=True), "upgrade", ("head",))
    assert problem is not None and problem.kind == "invalid_option"
    assert problem.title == "--snapshot-template goes with --from-snapshot"
    both = options(from_snapshot=True, snapshot_template=True)
    assert _option_problem(both, "upgrade", ("head",)) is None
    # Set in pants.toml ([db-migrate] snapshot_template = true): a preference, not a mistake.
    configured = options(
        snapshot_template=True, options=SimpleNamespace(is_flagged=lambda _: False)
    )
    assert _option_problem(configured, "upgrade", ("head",)) is None
