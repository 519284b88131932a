"""A group of files as one uncompressed zip: how lint's syntax check hands revision files over.

A sandbox of one file is laid out and removed far faster than one of a thousand (a check of a
10,000-revision history spent most of its time there, not compiling). The archive is a pure
function of the paths and bytes (sorted, fixed timestamps), so the same files give the same
digest and the check's cache key is what it was: the files' contents.
"""

from __future__ import annotations

import io
import zipfile
from typing import Dict, Iterable, Tuple

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def pack(files: Iterable[Tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for path, content in sorted(files):
            entry = zipfile.ZipInfo(path, date_time=_EPOCH)
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, content)
    return buffer.getvalue()


def unpack(data: bytes) -> Dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
