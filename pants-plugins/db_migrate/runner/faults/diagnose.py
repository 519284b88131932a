"""A failure that is the server's or the network's, told as such: the fault, read back where the
database is now, and the block the user reads (None when the failure is no fault of theirs: then
it is the revision's, the user's code's, or a bug of ours)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import psycopg

from db_migrate.core.report import Problem
from db_migrate.runner.faults.classify import kind, symptom
from db_migrate.runner.faults.report import Scene, fault_problem
from db_migrate.runner.faults.state import StateAfter, read_back
from db_migrate.runner.faults.watch import ServerWatch


@dataclass(frozen=True)
class Told:
    problem: Problem
    state: StateAfter


def diagnose(
    error: BaseException,
    scene: Scene,
    session: Optional[psycopg.Connection],
    reconnect: Callable[[], psycopg.Connection],
    version_table: str,
    watch: Optional[ServerWatch],
) -> Optional[Told]:
    """`error` as a fault of the server or the network, with the state read back; else None."""
    lost = watch.lock_session_error if watch is not None else None
    seen = (symptom(lost) if lost is not None else None) or symptom(error)
    if seen is None:
        return None
    started_at = watch.started_at if watch is not None else None
    after = read_back(session, reconnect, version_table, started_at)
    return Told(fault_problem(kind(seen, watch, after), seen, scene, after, watch), after)
