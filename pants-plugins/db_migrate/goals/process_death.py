"""What to say when a cached process of ours died of a signal instead of exiting.

Pants reports such a process with a negative exit code (`-9`) and whatever it printed up to then:
no report of its own, no outcome file. A bare `-9` tells the user nothing; the signal's name, how
far the process got, and who sends that signal do. db-verify never sends one itself, and Pants
sends SIGKILL only to a process whose result nobody will read (a cancelled run), so a SIGKILL
that reaches the report came from outside: the kernel's out-of-memory killer, or a `kill -9`
aimed at other processes (a kill by name or by a /proc scan for the runner's plan file).
"""

from __future__ import annotations

import signal
from typing import Optional

from db_migrate.core import report
from db_migrate.core.report import Problem


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def killed_by_signal(
    component: str,
    selector: str,
    exit_code: int,
    stdout: str,
    elapsed_ms: Optional[int],
    process: str = "verification",
    again: str = "",
) -> Optional[Problem]:
    """The problem of a cached process of ours (`process`: what it does, "verification" or
    "snapshot build"; `again`: the command that runs it again) killed by a signal (None: it
    exited by itself)."""
    if exit_code >= 0:
        return None
    number = -exit_code
    name = _signal_name(number)
    after = f" after {report.duration(elapsed_ms / 1000)}" if elapsed_ms is not None else ""
    lines = [line for line in stdout.splitlines() if line.strip()]
    details = [
        f"{component}'s {process} was killed by {name} (signal {number}){after}, before it"
        " could report anything: nothing of it is cached",
        f"Its last line: {lines[-1]}" if lines else "It printed nothing",
    ]
    actions = [f"Run it again: {again or report.goal('db-verify', selector, '--force')}"]
    if number == signal.SIGKILL:
        details.append(
            "Neither pants-db-migrate nor Pants sends SIGKILL to a run whose result is reported:"
            " something outside killed it"
        )
        actions += [
            "Check the kernel's out-of-memory killer: `dmesg | grep -i 'killed process'`",
            "Look for a script or test that kills processes by name or pattern (pkill -9 -f,"
            " killall, a /proc scan for __db_migrate_plan__.json): it must kill only the"
            " processes it started, by pid",
        ]
    return Problem(
        title=f"{component}: the {process} process was killed by {name}",
        details=tuple(details),
        actions=tuple(actions),
        kind="process_killed",
    )
