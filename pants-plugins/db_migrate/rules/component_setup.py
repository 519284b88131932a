"""Static pre-flight: everything about a component that needs its files and no database.

Cached by the engine, per component: with pantsd a second run parses nothing, and an edit
re-parses only the edited file (`RevisionFileMemo`). Problems are collected, not raised, so every goal can render them its own way
(`db-status` shows diverged heads as a state, `db-migrate` refuses to run).
"""

from __future__ import annotations

import logging
import posixpath
from dataclasses import dataclass
from typing import Callable, Optional, Tuple, TypeVar

from pants.engine.fs import (
    Digest,
    DigestContents,
    DigestEntries,
    DigestSubset,
    FileEntry,
    PathGlobs,
    Paths,
)
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import HydratedSources, HydrateSourcesRequest
from pants.option.global_options import GlobMatchErrorBehavior
from pants.source.source_root import AllSourceRoots

from db_migrate.core import report
from db_migrate.core.alembic_ini import AlembicIni, AlembicIniError, parse_alembic_ini
from db_migrate.core.file_memo import FileMemo
from db_migrate.core.report import Problem
from db_migrate.core.revision_file import (
    Revision,
    RevisionFileError,
    is_revision_file,
    read_revision_header,
)
from db_migrate.core.revision_graph import InvalidRevisionGraph
from db_migrate.rules.release_pins import (
    ReleasePinsError,
    in_release_order,
    parse_release_pins,
    parse_revision_history,
)
from db_migrate.target_types import AlembicMigrationsFieldSet

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ParsedRevisionFile:
    path: str
    revision: Optional[Revision]  # with its file's checksum (the Pants digest's sha256)
    error: Optional[Tuple[int, str]] = None  # (line, message)


class RevisionFileMemo:
    """Parsed revision files by (path, content digest), kept for the life of pantsd.

    The engine memoizes a component's whole setup, so a run with nothing changed parses nothing.
    When one file changes, the component's rule runs again and this memo keeps the re-parse to
    that file. (One engine rule per file would give the same warm behaviour, but its per-call
    overhead made the first, cold run of a 5,000-revision history take over ten seconds.)
    Parsing is a pure function of path and content, so the memo can never be stale. After an
    edit, every unchanged file's `Revision` is the same object as before, which the plan's JSON
    memo (`contract._FactsJson`) relies on.
    """

    def __init__(self) -> None:
        self._parsed: FileMemo[ParsedRevisionFile] = FileMemo()

    def get(self, entry: FileEntry) -> Optional[ParsedRevisionFile]:
        return self._parsed.get((entry.path, entry.file_digest.fingerprint))

    def parse(self, path: str, fingerprint: str, content: bytes) -> ParsedRevisionFile:
        try:
            parsed = ParsedRevisionFile(path, read_revision_header(path, content, fingerprint))
        except RevisionFileError as e:
            parsed = ParsedRevisionFile(path, None, (e.line or 0, e.message))
        return self._parsed.put((path, fingerprint), parsed)


REVISION_FILES = RevisionFileMemo()


class RevisionMaps:
    """Alembic's maps (and plans) of the latest few graphs, by `graph_shape`, for the life of
    pantsd.

    db-status classifies in pantsd on every run, and building the map of 5,000 revisions, or
    planning on it, costs more than the rest of its work there. Both depend only on ids and
    links, so a run after an edit of a docstring or a body reuses them too.
    """

    def __init__(self, limit: int = 8) -> None:
        self._graphs: FileMemo = FileMemo(limit)

    def history(self, revisions: Tuple[Revision, ...]):
        from db_migrate.core.history import History, graph_shape

        shape = graph_shape(revisions)
        history = History(revisions, self._graphs.get(shape))
        self._graphs.put(shape, history.graph)
        return history


REVISION_MAPS = RevisionMaps()


@dataclass(frozen=True)
class ComponentSetup:
    """A component as its files describe it: config, revisions, and what is wrong with them."""

    field_set: AlembicMigrationsFieldSet
    ini: Optional[AlembicIni]
    revisions: Tuple[Revision, ...]  # each with its file's checksum, in Alembic's load order
    files: Tuple[str, ...]  # every revision file, parsable or not, in Alembic's load order
    config_problems: Tuple[Problem, ...]
    history_problems: Tuple[Problem, ...]
    heads: Tuple[str, ...]
    release_pins: Tuple[Tuple[str, str], ...] = ()  # (release, full revision id), oldest first
    script_dir: str = ""  # the ini's script_location, resolved, relative to the build root

    @property
    def component(self) -> str:
        return self.field_set.component_name

    @property
    def selector(self) -> str:
        return self.field_set.address.spec

    @property
    def problems(self) -> Tuple[Problem, ...]:
        return self.config_problems + self.history_problems

    def history(self):
        """Alembic's map of the revisions (imported on first use: most goals need only the heads)."""
        return self._kept("history", lambda: REVISION_MAPS.history(self.revisions))

    def _kept(self, name: str, make: Callable[[], T]) -> T:
        """Computed once per setup: the engine hands every run the same setup until a file of
        the component changes, and at 5,000 revisions each of these costs tens of milliseconds."""
        key = f"_kept_{name}"  # not a field, so frozen-ness and equality are unchanged
        kept = self.__dict__.get(key)
        if kept is None:
            kept = self.__dict__[key] = make()
        return kept

    def head_infos(self) -> Tuple[report.HeadInfo, ...]:
        by_id = {r.revision: r for r in self.revisions}
        return tuple(report.HeadInfo(h, by_id[h].path, by_id[h].message) for h in self.heads)


def _config_problem(component: str, config: str, title: str, detail: str, *actions: str) -> Problem:
    return Problem(
        title=title,
        details=(detail,),
        actions=actions
        or (
            f"Check the `alembic_config` field of {component}'s alembic_migrations target",
            f"Check {config}: [alembic] script_location = %(here)s/<path to the folder with env.py>"
            " (or a package resource, package.module:folder)",
        ),
        kind="config",
    )


@dataclass(frozen=True)
class IniRequest:
    field_set: AlembicMigrationsFieldSet


@dataclass(frozen=True)
class IniResult:
    ini: Optional[AlembicIni]
    problems: Tuple[Problem, ...]
    script_dir: str = ""  # where the ini's script_location resolves, relative to the build root


def _ini_not_found(component: str, config: str) -> Problem:
    return _config_problem(
        component,
        config,
        "Alembic config not found",
        f"{component} names `{config}` as its Alembic config, and there is no such file",
        "Create it, or fix the `alembic_config` field of the component's alembic_migrations target",
        "Check you are at the repository root and on the right branch",
    )


def missing_package(component: str, ini: AlembicIni, looked_in: Tuple[str, ...]) -> Problem:
    location = ini.location
    return Problem(
        title="Alembic config names a missing package",
        details=(
            f"{ini.path} says script_location = {location.value}: Alembic would import the "
            f"package `{location.package}` and use its folder `{location.resource}`, and no "
            "source root holds it",
            "Looked in: " + ", ".join(looked_in),
        ),
        actions=(
            f"Fix script_location in {ini.path} (a typo in `{location.package}`?)",
            "Or add the folder that holds the package to [source].root_patterns in pants.toml",
            f"Check the `alembic_config` field of {component}'s alembic_migrations target",
        ),
        kind="config",
    )


@dataclass(frozen=True)
class ScriptDirResult:
    script_dir: Optional[str]  # None: a package resource no source root holds
    looked_in: Tuple[str, ...]


@rule(desc="Resolve an Alembic script_location")
async def resolve_script_dir(ini: AlembicIni, roots: AllSourceRoots) -> ScriptDirResult:
    """A package resource is found through the repo's source roots, the way Alembic finds it on
    `sys.path`, without importing anything; paths need no lookup."""
    direct = ini.script_dir()
    if direct is not None:
        return ScriptDirResult(direct, (direct,))
    candidates = ini.location.candidates(root.path for root in roots)
    found = await Get(
        Paths,
        PathGlobs(
            [posixpath.join(c, "*") for c in candidates],
            glob_match_error_behavior=GlobMatchErrorBehavior.ignore,
        ),
    )
    present = {posixpath.dirname(f) for f in found.files}
    return ScriptDirResult(next((c for c in candidates if c in present), None), candidates)


@rule(desc="Read an Alembic config")
async def read_component_ini(request: IniRequest) -> IniResult:
    fs = request.field_set
    config = fs.alembic_config.value
    component = fs.component_name
    contents = await Get(
        DigestContents, PathGlobs([config], glob_match_error_behavior=GlobMatchErrorBehavior.ignore)
    )
    if not contents:
        return IniResult(None, (_ini_not_found(component, config),))
    try:
        ini = parse_alembic_ini(config, contents[0].content.decode("utf-8", "replace"))
    except AlembicIniError as e:
        return IniResult(
            None, (_config_problem(component, config, "Invalid Alembic config", str(e)),)
        )
    resolved = await Get(ScriptDirResult, AlembicIni, ini)
    script_dir = resolved.script_dir
    if script_dir is None:
        return IniResult(ini, (missing_package(component, ini, resolved.looked_in),))
    target_dir = fs.address.spec_path
    if script_dir != target_dir:
        return IniResult(
            ini,
            (
                _config_problem(
                    component,
                    config,
                    "Alembic config points elsewhere",
                    f"{config} says script_location = {ini.script_location} (that is {script_dir}),"
                    f" but {component}'s alembic_migrations target is in {target_dir}",
                ),
            ),
            script_dir,
        )
    return IniResult(ini, (), script_dir)


def _history(
    revisions, parse_errors, component: str, selector: str
) -> Tuple[Tuple[Problem, ...], Tuple[str, ...]]:
    """(problems, heads): every structural problem, else Alembic's heads from its map, which
    pantsd keeps for the goals that classify or plan on it (`REVISION_MAPS`)."""
    problems = tuple(
        report.revision_file_problem(path, line, message) for path, (line, message) in parse_errors
    )
    try:
        history = REVISION_MAPS.history(revisions)
    except InvalidRevisionGraph as e:
        return problems + graph_problem_reports(e.problems, component, selector), ()
    return problems, (history.heads if not problems else ())


def graph_problem_reports(issues, component: str, selector: str) -> Tuple[Problem, ...]:
    """Duplicate ids, dangling references and cycles as the specification's error blocks."""
    out = []
    for issue in issues:
        if issue.kind == "missing-revision":
            missing = issue.revisions[-1] if issue.revisions else "?"
            out.append(report.migration_file_missing(component, selector, missing, issue.paths))
        elif issue.kind == "duplicate-revision":
            out.append(
                Problem(
                    title=f"Duplicate revision id '{issue.revisions[0]}'",
                    details=(
                        f"{len(issue.paths)} files of {component} declare it:",
                        *(f"  - {p}" for p in issue.paths),
                    ),
                    actions=(
                        "Give one of them a new id (and update any down_revision that means it)",
                        "If one is a stale copy (a rename or a merge leftover), delete it",
                    ),
                    kind="duplicate_revision",
                )
            )
        elif issue.kind in ("cycle", "dependency-cycle"):
            out.append(
                Problem(
                    title="Revision cycle detected",
                    details=(
                        f"{component}'s history loops: " + " → ".join(issue.revisions),
                        *(f"  - {p}" for p in issue.paths),
                    ),
                    actions=(
                        "Fix the down_revision of one of these files so the history has a start",
                    ),
                    kind="revision_cycle",
                )
            )
        else:
            out.append(
                Problem(
                    title="Invalid revision history",
                    details=(issue.message, *(f"  - {p}" for p in issue.paths)),
                    actions=("Fix the files named above so Alembic can build the history",),
                    kind=issue.kind,
                )
            )
    return tuple(out)


def _pins_problem(fs: AlembicMigrationsFieldSet, path: str, detail: str) -> Problem:
    return Problem(
        title="Invalid release pins",
        details=(detail,),
        actions=(
            f"Fix {path}: a file with one `RELEASE = REVISION` per line (e.g. `24.09.8 = abc123def456`),"
            " or a folder of `<release>.json` files whose `revisions` list marks one entry `is_head`",
            f"Or fix the `release_pins` field of {fs.address.spec}",
        ),
        kind="release_pins",
    )


def _parse_pins(path: str, contents: DigestContents) -> Tuple[Tuple[str, str, str], ...]:
    """(release, revision, file) of a `RELEASE = REVISION` file or a `revision_history/` folder."""
    files = {c.path: c.content.decode("utf-8", "replace") for c in contents}
    if path in files:
        return tuple((name, rev, path) for name, rev in parse_release_pins(path, files[path]))
    pinned = {parse_revision_history(p, text): p for p, text in sorted(files.items())}
    return tuple((name, rev, pinned[(name, rev)]) for name, rev in in_release_order(pinned))


async def _release_pins(
    fs: AlembicMigrationsFieldSet, revisions
) -> Tuple[tuple, Tuple[Problem, ...]]:
    path = posixpath.normpath(posixpath.join(fs.address.spec_path, fs.release_pins.value))
    contents = await Get(
        DigestContents,
        PathGlobs(
            [path, posixpath.join(path, "*.json")],
            glob_match_error_behavior=GlobMatchErrorBehavior.ignore,
        ),
    )
    if not contents:
        detail = f"{fs.component_name} names {path} as its release pins, and there is no such file"
        return (), (_pins_problem(fs, path, detail + " (or folder of *.json files)"),)
    try:
        pins = _parse_pins(path, contents)
    except ReleasePinsError as e:
        return (), (_pins_problem(fs, e.path, str(e)),)
    known = {r.revision for r in revisions}
    resolved = []
    for name, revision, source in pins:
        matches = (
            [revision] if revision in known else sorted(k for k in known if k.startswith(revision))
        )
        if len(matches) != 1:
            why = "no revision" if not matches else "several revisions (" + ", ".join(matches) + ")"
            detail = f"{source}: release {name} pins {revision}, which matches {why} of {fs.component_name}"
            return (), (_pins_problem(fs, source, detail),)
        resolved.append((name, matches[0]))
    return tuple(resolved), ()


async def _env_py_problems(fs: AlembicMigrationsFieldSet) -> Tuple[Problem, ...]:
    target_dir = fs.address.spec_path
    env_py = await Get(
        Paths,
        PathGlobs(
            [posixpath.join(target_dir, "env.py")],
            glob_match_error_behavior=GlobMatchErrorBehavior.ignore,
        ),
    )
    if env_py.files:
        return ()
    return (
        _config_problem(
            fs.component_name,
            fs.alembic_config.value,
            "Alembic environment not found",
            f"{target_dir}/env.py does not exist: Alembic cannot run {fs.component_name}'s migrations",
            f"Create it: alembic init, or copy another component's env.py into {target_dir}",
        ),
    )


def _no_revision_files(fs: AlembicMigrationsFieldSet) -> Problem:
    target_dir = fs.address.spec_path
    versions_dir = posixpath.join(target_dir, "versions")
    return _config_problem(
        fs.component_name,
        fs.alembic_config.value,
        "No revision files",
        f"{fs.component_name} has no revision files matching {', '.join(fs.sources.globs)} in {target_dir}"
        f" (expected in {versions_dir}/)",
        f"Create the folder {versions_dir}/ and a first revision: pants db-create-migration --message=... {fs.address.spec}",
        "Or fix the `sources` field of the alembic_migrations target",
    )


async def _revision_entries(digest: Digest) -> Tuple[FileEntry, ...]:
    """The revision files of the snapshot, in Alembic's load order (sorted file names), which
    breaks ties in its plans."""
    entries = await Get(DigestEntries, Digest, digest)
    return tuple(
        sorted(
            (
                e
                for e in entries
                if isinstance(e, FileEntry) and is_revision_file(posixpath.basename(e.path))
            ),
            key=lambda e: e.path,
        )
    )


async def _parse_new_files(
    component: str, digest: Digest, files: Tuple[FileEntry, ...]
) -> Tuple[ParsedRevisionFile, ...]:
    """Every file parsed, reading only those the memo has not seen (all of them on a cold run,
    the edited one after an edit)."""
    kept = [REVISION_FILES.get(e) for e in files]
    missing = [e for e, parsed in zip(files, kept) if parsed is None]
    if missing:
        if len(missing) < len(files):
            digest = await Get(Digest, DigestSubset(digest, PathGlobs([e.path for e in missing])))
        fingerprints = {e.path: e.file_digest.fingerprint for e in missing}
        shown = ", ".join(e.path for e in missing[:3]) + (", ..." if len(missing) > 3 else "")
        logger.debug("parsing %d revision file(s) of %s: %s", len(missing), component, shown)
        for content in await Get(DigestContents, Digest, digest):
            if content.path in fingerprints:
                REVISION_FILES.parse(content.path, fingerprints[content.path], content.content)
        kept = [parsed or REVISION_FILES.get(e) for e, parsed in zip(files, kept)]
    return tuple(kept)


@rule(desc="Check a migration component's files")
async def component_setup(fs: AlembicMigrationsFieldSet) -> ComponentSetup:
    ini_result, hydrated = await MultiGet(
        Get(IniResult, IniRequest(fs)),
        Get(HydratedSources, HydrateSourcesRequest(fs.sources)),
    )
    extra = await _env_py_problems(fs)
    files = await _revision_entries(hydrated.snapshot.digest)
    if not files:
        extra += (_no_revision_files(fs),)
    parsed = await _parse_new_files(fs.component_name, hydrated.snapshot.digest, files)
    revisions = tuple(p.revision for p in parsed if p.revision is not None)
    errors = tuple((p.path, p.error) for p in parsed if p.error is not None)
    history, heads = (
        _history(revisions, errors, fs.component_name, fs.address.spec) if files else ((), ())
    )
    pins, pin_problems = await _release_pins(fs, revisions) if fs.release_pins.value else ((), ())
    return ComponentSetup(
        field_set=fs,
        ini=ini_result.ini,
        revisions=revisions,
        files=tuple(e.path for e in files),
        config_problems=tuple(ini_result.problems) + extra,
        history_problems=history + pin_problems,
        heads=tuple(heads),
        release_pins=pins,
        script_dir=ini_result.script_dir,
    )


def rules():
    return collect_rules()
