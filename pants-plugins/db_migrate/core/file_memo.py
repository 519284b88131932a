"""Values the plugin computed from one file's content, kept for the life of pantsd.

The engine memoizes a component's rules as a whole: when one file of a 5,000-file history
changes, the rule runs again for every file. These memos keep that work to the changed file.
Each value is a pure function of its key (the file's path and content digest, plus whatever
else decides it), so a memo is never stale. Past `limit` the oldest entries go first, which
bounds pantsd's memory.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, Hashable, Optional, TypeVar

V = TypeVar("V")


class FileMemo(Generic[V]):
    def __init__(self, limit: int = 200_000) -> None:
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._limit = limit

    def get(self, key: Hashable) -> Optional[V]:
        return self._values.get(key)

    def put(self, key: Hashable, value: V) -> V:
        self._values[key] = value
        while len(self._values) > self._limit:
            self._values.popitem(last=False)
        return value
