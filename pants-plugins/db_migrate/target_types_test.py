from __future__ import annotations

import pytest  # pants: no-infer-dep (the `[pytest]` tool resolve provides it)
from pants.engine.addresses import Address
from pants.engine.target import InvalidFieldException

from db_migrate.target_types import AlembicRevisionsField, LockRetriesField, LockTimeoutField


def _field() -> AlembicRevisionsField:
    return AlembicRevisionsField(None, Address("src/app/models/alembic", target_name="migrations"))


def test_revision_files_must_be_python_files_as_pants_says() -> None:
    _field().validate_resolved_files([f"versions/r{i}.py" for i in range(5000)])
    for bad in ("versions/notes.txt", "versions/.py", "versions/r1.pyc", "versions/r1.py.orig"):
        with pytest.raises(
            InvalidFieldException, match=r"can only contain files that end in '\.py'"
        ):
            _field().validate_resolved_files(["versions/a.py", bad])


def test_lock_retries_are_zero_or_more_and_five_unless_set() -> None:
    address = Address("src/app/models/alembic", target_name="migrations")
    assert LockRetriesField(None, address).value == 5
    assert LockRetriesField(0, address).value == 0
    with pytest.raises(InvalidFieldException, match="use 0 \\(no retry\\) or more"):
        LockRetriesField(-1, address)
    assert LockTimeoutField(None, address).value == "5s"
