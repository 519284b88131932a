from __future__ import annotations

from db_migrate.goals.process_death import killed_by_signal

LOG = "appproxy: throwaway PostgreSQL 18.6 up in 4.69 s\nappproxy:   ↓ d28c058dcd06 reverted, schema restored (120 ms)\n"


def test_a_sigkill_names_the_signal_the_step_and_who_sends_one() -> None:
    problem = killed_by_signal("appproxy", "src/ai/backend/appproxy::", -9, LOG, 12_345)
    assert problem is not None
    text = problem.render()
    assert "appproxy's verification was killed by SIGKILL (signal 9) after 12.35 s" in text
    assert "Its last line: appproxy:   ↓ d28c058dcd06 reverted, schema restored (120 ms)" in text
    assert "out-of-memory killer" in text and "dmesg" in text
    assert "pkill" in text  # a kill by name aimed at other processes
    assert "pants db-verify --force src/ai/backend/appproxy::" in text
    assert "-9" not in problem.title


def test_another_signal_is_named_too_and_an_exit_code_is_no_death() -> None:
    problem = killed_by_signal("manager", "src/ai/backend/manager::", -15, "", None)
    assert problem is not None
    text = problem.render()
    assert "killed by SIGTERM (signal 15)" in text and "It printed nothing" in text
    assert "out-of-memory" not in text  # only SIGKILL is the kernel's
    assert killed_by_signal("manager", "x::", 1, LOG, 10) is None
    assert killed_by_signal("manager", "x::", 0, LOG, 10) is None


def test_a_killed_snapshot_build_is_named_as_such_with_its_own_command() -> None:
    again = "pants db-migrate --from-snapshot src/ai/backend/manager::"
    problem = killed_by_signal("manager", "x::", -9, "", 5_000, "snapshot build", again)
    assert problem is not None
    text = problem.render()
    assert problem.title == "manager: the snapshot build process was killed by SIGKILL"
    assert "manager's snapshot build was killed by SIGKILL (signal 9)" in text
    assert f"Run it again: {again}" in text and "db-verify" not in text
