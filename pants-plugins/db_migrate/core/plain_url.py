"""The usual shape of a PostgreSQL URL, read without importing SQLAlchemy.

`postgresql[+driver]://user[:password]@host[:port]/database` with plain names is how almost every
`sqlalchemy.url` and `*_DB_URL` reads. db-status's runner only reads two tables; importing
SQLAlchemy for `make_url` alone was a fifth of its run after an edit at 5,000 revisions
(docs/benchmarks.md, `scale`). Anything beyond that shape (a query, an IPv6 host, escapes or
punctuation in a name, an empty user) is not read here: `plain_url` returns None and SQLAlchemy
reads it. For what it does read, it says exactly what `make_url` says (`plain_url_test` checks
that against the SQLAlchemy installed, on generated URLs), and anything that needs a real `URL`
gets one from SQLAlchemy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Mapping, Optional
from urllib.parse import quote, unquote

_NAME = r"[A-Za-z0-9_.-]+"
# A password's characters that need no thought: URL-unreserved ones, sub-delimiters, and %-escapes
# (SQLAlchemy unquotes the password, as we do). `:`, `/`, `?`, `#`, `@` and brackets are left to it.
_PASSWORD = r"[A-Za-z0-9_.~!$&'()*+,;=%-]*"
_PLAIN = re.compile(
    rf"(?P<drivername>postgresql(?:\+[a-z0-9_]+)?)://"
    rf"(?:(?P<username>{_NAME})(?::(?P<password>{_PASSWORD}))?@)?"
    r"(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*)?(?::(?P<port>[0-9]{1,5}))?"
    rf"/(?P<database>{_NAME})"
)


@dataclass(frozen=True)
class PlainUrl:
    """What `DatabaseUrl` reads of a SQLAlchemy `URL`, for a URL of the plain shape."""

    text: str
    drivername: str
    username: Optional[str]
    password: Optional[str]
    host: Optional[str]
    port: Optional[int]
    database: str

    @property
    def query(self) -> Mapping[str, str]:
        return {}  # a URL with a query goes to SQLAlchemy

    def get_backend_name(self) -> str:
        return self.drivername.partition("+")[0]

    def render_as_string(self, hide_password: bool = True) -> str:
        """SQLAlchemy's rendering, for this shape (its names need no quoting)."""
        text = self.drivername + "://"
        if self.username is not None:
            text += self.username
            if self.password is not None:
                text += ":" + ("***" if hide_password else quote(self.password, safe=" +"))
            text += "@"
        text += (self.host or "") + (f":{self.port}" if self.port is not None else "")
        return f"{text}/{self.database}"

    def set(self, **changes):
        """The URL with `changes`: another plain database name stays a `PlainUrl` (the runner
        names the server's other databases), anything else is a SQLAlchemy `URL` (only the
        connection env.py is handed needs one)."""
        database = changes.get("database")
        if changes.keys() == {"database"} and re.fullmatch(_NAME, database or ""):
            start = _PLAIN.fullmatch(self.text).start("database")
            return replace(self, text=self.text[:start] + database, database=database)
        from sqlalchemy.engine import make_url

        return make_url(self.text).set(**changes)


def plain_url(text: str) -> Optional[PlainUrl]:
    """`text` read as `make_url` reads it, or None when it is not of the plain shape."""
    match = _PLAIN.fullmatch(text)
    if match is None:
        return None
    password = match["password"]
    return PlainUrl(
        text=text,
        drivername=match["drivername"],
        username=match["username"],
        password=unquote(password) if password is not None else None,
        host=match["host"],
        port=int(match["port"]) if match["port"] else None,
        database=match["database"],
    )
