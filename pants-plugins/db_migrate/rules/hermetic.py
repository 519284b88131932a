"""What a cached process may see of the repo's files: nothing that holds a database URL.

A cached `Process` (db-verify, the alembic-history compile check, each revision's
migration-safety lint) stores its inputs' digests in its cache key, which a remote cache shares;
the ini files in its sandbox must therefore not carry `sqlalchemy.url`'s credentials, host or
database: the development password (or worse), and a port that differs per developer (with it, no
two clones would share a result, and a process could print the password into a stored result).
None of those processes connects anywhere with it (verify starts its own database, the others
read files; the safety lint's offline mode needs the dialect only, which stays); everything else
in the ini (script_location, version_table, the user's own options) stays byte for byte.
Only the interactive processes, never cached, see the ini as it is
(`runner_process.HermeticRunnerEnvironment` is the environment the cached ones are built from).
Pure, so it is easy to test.
"""

from __future__ import annotations

import re

_URL_OPTION = re.compile(r"^(\s*sqlalchemy\.url\s*[=:]\s*)(.*)$", re.IGNORECASE)
_CONTINUATION = re.compile(r"^[ \t]+\S")  # configparser: an indented line continues the value
_DIALECT = re.compile(r"^([A-Za-z][A-Za-z0-9_]*(?:\+[A-Za-z0-9_]+)?)://")  # postgresql+asyncpg
INI_GLOBS = ("*.ini", "**/*.ini")  # where a sandbox may hold an ini


def dialect_only_urls(text: str) -> str:
    """The ini text with every `sqlalchemy.url` cut to its dialect (`postgresql+asyncpg://`).

    The dialect is all Alembic's offline mode needs (env.py's `context.configure(url=...)`, which
    the migration-safety lint runs), and it holds no secret. A URL with no literal dialect (an
    interpolation, say) goes entirely, with its continuation lines.
    """
    kept = []
    in_url = False
    for line in text.splitlines(keepends=True):
        option = _URL_OPTION.match(line.rstrip("\r\n"))
        if option:
            in_url = True
            dialect = _DIALECT.match(option.group(2))
            if dialect:
                ending = line[len(line.rstrip("\r\n")) :] or "\n"
                kept.append(f"{option.group(1)}{dialect.group(1)}://{ending}")
            continue
        if in_url and _CONTINUATION.match(line):
            continue
        in_url = False
        kept.append(line)
    return "".join(kept)
