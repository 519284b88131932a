"""`--target` values: syntax first (no files needed), then what the history can resolve statically.

Relative targets (`+1`, `-2`, `head-1` from the current revision) need the database and are
resolved by the runner with Alembic itself; everything else is checked here, before any
database is touched, so a typo costs milliseconds and names the closest real revisions.
"""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

from db_migrate.core import report
from db_migrate.core.report import Problem
from db_migrate.rules.component_setup import ComponentSetup

SPECIAL = ("head", "heads", "base")
# Alembic's own form: [branch@][revision](+|-)N
RELATIVE = re.compile(r"^(?:(?P<branch>[^@\s]+?)@)?(?P<symbol>\w+)?(?P<delta>[+-]\d+)$")
BRANCH_HEAD = re.compile(r"^(?P<branch>[^@\s]+)@(?P<symbol>head|base)$")
PLAIN = re.compile(r"^[A-Za-z0-9_]+$")
RELEASE = re.compile(r"^release:(?P<name>\S+)$")


class TargetSyntaxError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.title)
        self.problem = problem


def bad_target(target: str, why: str) -> Problem:
    return Problem(
        title=f"Invalid target '{target}'",
        details=(why,),
        actions=(
            "Use head (default), base, a revision id or an unambiguous prefix of one",
            "Or a relative step from the current revision: --target=+1, --target=-1, --target=-2",
            "Or a branch: --target=LABEL@head, or a release pin: --target=release:NAME",
        ),
        kind="invalid_target",
    )


def check_target_syntax(target: str) -> None:
    if not target:
        raise TargetSyntaxError(bad_target(target, "The target is empty"))
    if target in SPECIAL or PLAIN.match(target) or RELEASE.match(target):
        return
    if BRANCH_HEAD.match(target):
        return
    m = RELATIVE.match(target)
    if m:
        if int(m.group("delta")[1:]) == 0:
            raise TargetSyntaxError(
                bad_target(target, "A relative step must move at least one revision (+1, -1, ...)")
            )
        return
    if re.search(r"[+-]", target):
        raise TargetSyntaxError(
            bad_target(
                target, "A relative step is a sign and a whole number of revisions, e.g. +1 or -2"
            )
        )
    raise TargetSyntaxError(
        bad_target(target, "It is neither a revision id, head, base nor a relative step")
    )


def split_range(target: str) -> Tuple[str, ...]:
    """`FROM:TO` (`--sql`) -> its two ends, each any target (`release:24.09.0:head` too); a
    target without a range -> itself. Raises TargetSyntaxError for more than two ends."""
    parts: List[str] = []
    for piece in target.split(":"):
        if parts and parts[-1] == "release":
            parts[-1] = f"release:{piece}"
        else:
            parts.append(piece)
    if len(parts) > 2:
        raise TargetSyntaxError(
            bad_target(target, "A range is FROM:TO, two targets, e.g. release:24.09.0:head")
        )
    return tuple(parts)


def resolve_release(setup: ComponentSetup, target: str) -> str:
    """`release:NAME` -> the pinned revision id; anything else unchanged. Raises TargetSyntaxError."""
    m = RELEASE.match(target)
    if not m:
        return target
    pins = dict(setup.release_pins)
    if m.group("name") in pins:
        return pins[m.group("name")]
    field = setup.field_set.release_pins.value
    known = ", ".join(name for name, _ in setup.release_pins) or "none"
    raise TargetSyntaxError(
        Problem(
            title=f"Unknown release '{m.group('name')}'",
            details=(
                f"{setup.component} pins no release of that name"
                + (
                    f" in {field}"
                    if field
                    else " (its alembic_migrations target has no `release_pins` file)"
                ),
                f"Pinned releases: {known}",
            ),
            actions=(
                "Check the release name for typos",
                f"Pin it: add `{m.group('name')} = <revision>` to the component's release pins file",
            ),
            kind="unknown_release",
        )
    )


def static_target_problem(setup: ComponentSetup, target: str) -> Optional[Problem]:
    """A problem when the history cannot contain `target`, whatever the database holds."""
    if RELEASE.match(target):
        try:
            resolve_release(setup, target)
        except TargetSyntaxError as e:
            return e.problem
        return None
    if target in SPECIAL:
        return None
    m = RELATIVE.match(target)
    symbol = None
    if m:
        symbol = m.group("symbol")
        branch = m.group("branch")
        if branch:
            return _lookup_problem(setup, branch, target)
    else:
        bh = BRANCH_HEAD.match(target)
        symbol = bh.group("branch") if bh else target
    if not symbol or symbol in SPECIAL:
        return None
    return _lookup_problem(setup, symbol, target)


def _lookup_problem(setup: ComponentSetup, symbol: str, target: str) -> Optional[Problem]:
    from db_migrate.core.history import TargetError

    history = setup.history()
    try:
        history.resolve(symbol)
    except TargetError as e:
        config = setup.field_set.alembic_config.value
        if e.kind == "ambiguous":
            why = f"'{symbol}' is ambiguous in {setup.component}: it is the start of " + ", ".join(
                e.candidates
            )
            return report.cannot_locate_revision(
                target, setup.component, config, setup.selector, (), why=why
            )
        if e.kind == "unknown":
            return report.cannot_locate_revision(
                target,
                setup.component,
                config,
                setup.selector,
                e.suggestions or history.closest(symbol),
            )
    return None
