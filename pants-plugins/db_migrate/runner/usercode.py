"""Whose fault an exception is: the user's code (env.py, models, revision files) or ours.

The runner executes the component's own Python: importing env.py imports the models, Alembic
imports every revision file, a package-resource `script_location` imports its package. When one
of them raises, the user needs the file and line of *their* code, not "a bug in pants-db-migrate".
Their files are those in the sandbox (the repo's layout) outside our own package; frames in the
venv (SQLAlchemy, Alembic) or in the interpreter are neither's and are skipped.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

from db_migrate.core import report
from db_migrate.core.report import Problem, ProblemError

_OURS = Path(__file__).resolve().parent.parent  # db_migrate/ (the runner and its shared modules)


@dataclass(frozen=True)
class UserFrame:
    path: str  # relative to the build root
    line: int


def _user_path(filename: Optional[str]) -> Optional[str]:
    if not filename or filename.startswith("<"):
        return None
    path = Path(filename).resolve()
    root = Path.cwd().resolve()
    if not path.is_relative_to(root) or path.is_relative_to(_OURS):
        return None
    return os.path.relpath(path, root)


def user_frames(error: BaseException) -> List[UserFrame]:
    """The frames of the traceback in the user's files, outermost first."""
    frames = []
    for frame, line in traceback.walk_tb(error.__traceback__):
        path = _user_path(frame.f_code.co_filename)
        if path is not None:
            frames.append(UserFrame(path, line))
    if isinstance(error, SyntaxError):  # the file that failed to compile has no frame of its own
        path = _user_path(error.filename)
        if path is not None:
            frames.append(UserFrame(path, error.lineno or 0))
    return frames


def _raised_by_us(error: BaseException) -> bool:
    innermost = None
    for frame, _ in traceback.walk_tb(error.__traceback__):
        innermost = frame.f_code.co_filename
    return bool(innermost) and Path(innermost).resolve().is_relative_to(_OURS)


def error_line(error: BaseException) -> str:
    """`Type: first line of the message`, passwords masked."""
    text = str(error).strip()
    message = text.splitlines()[0] if text else ""
    name = type(error).__name__
    return report.mask(f"{name}: {message}" if message else name)


def user_code_problem(
    error: BaseException, component: str, reproduce: str, doing: str = ""
) -> Optional[Problem]:
    """The error as the user's own, or None when it is not theirs (then it is ours)."""
    frames = user_frames(error)
    if not frames or _raised_by_us(error):
        return None
    where = frames[-1]
    details = [f"{where.path}, line {where.line}: {error_line(error)}"]
    details += [f"  reached from {f.path}, line {f.line}" for f in reversed(frames[:-1])]
    details.append(
        f"The error is in {component}'s own code{' (' + doing + ')' if doing else ''}, "
        "not in pants-db-migrate."
    )
    return Problem(
        title=f"{type(error).__name__} in {where.path}",
        details=tuple(details),
        actions=tuple(_actions(error, where, reproduce)),
        kind="user_code",
    )


def _actions(error: BaseException, where: UserFrame, reproduce: str) -> Sequence[str]:
    actions = [f"Fix {where.path} at line {where.line}"]
    if isinstance(error, ImportError):
        actions.append(
            "If a distribution is missing from the environment, add it to the resolve's"
            " requirements (3rdparty/python/requirements.txt) and run: pants generate-lockfiles"
        )
    actions.append(f"Reproduce it: {reproduce}")
    return actions


def theirs_if_raised(plan, action, doing: str = "loading its Alembic scripts"):
    """Run `action`; an exception from the user's code (env.py, models, revisions) is theirs,
    reported with its file and line; any other is re-raised, ours."""
    from db_migrate.runner.alembic_glue.steps import RevisionLoadError

    try:
        return action()
    except ProblemError:
        raise
    except RevisionLoadError as e:
        raise ProblemError(report.revision_file_problem(e.path, e.line, e.message)) from None
    except Exception as e:  # noqa: BLE001 - attributed below, or re-raised as ours
        frames = user_frames(e)
        revisions = {r.path for r in plan.revisions}
        if isinstance(e, SyntaxError) and frames and frames[-1].path in revisions:
            problem = report.revision_file_problem(frames[-1].path, frames[-1].line, error_line(e))
        else:
            problem = user_code_problem(
                e, plan.component, f"pants db-migrate --dry-run {plan.selector}", doing
            )
        if problem is None:
            raise
        raise ProblemError(problem) from None
