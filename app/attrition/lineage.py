"""Which loads the rows of training.employees came from: the table's data set, as the loader
guards it and as a training run records it.

Rows loaded before loads were recorded have no load: their kind is "unrecorded", and the loader
treats them as real (synthetic data is never written over them).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

UNRECORDED = "unrecorded"

QUERY = """
SELECT l.id, coalesce(l.source, '(before loads were recorded)'), coalesce(l.kind, %s),
       coalesce(l.sha256, ''), count(*)
FROM training.employees e LEFT JOIN training.loads l ON l.id = e.load_id
GROUP BY l.id, l.source, l.kind, l.sha256
ORDER BY l.id NULLS FIRST
"""


@dataclass(frozen=True)
class Load:
    id: int | None
    source: str
    kind: str  # real, synthetic or unrecorded
    sha256: str
    rows: int  # rows of the table that this load wrote last


@dataclass(frozen=True)
class DataSet:
    loads: tuple[Load, ...]

    @property
    def rows(self) -> int:
        return sum(load.rows for load in self.loads)

    @property
    def kinds(self) -> set[str]:
        return {load.kind for load in self.loads}

    @property
    def kind(self) -> str:
        """real, synthetic, unrecorded, mixed, or empty."""
        kinds = self.kinds
        return kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "empty")

    @property
    def holds_real_data(self) -> bool:
        return bool(self.kinds - {"synthetic"})

    @property
    def identity(self) -> str:
        """What "the same data" means for the promotion gate: kind and source names (a new
        export under the same name is the same data set, grown or corrected)."""
        sources = sorted({load.source for load in self.loads})
        return f"{self.kind}:{','.join(sources)}"

    def tags(self) -> dict[str, str]:
        """MLflow tags (run and version): kind, identity, the loads as JSON (MLflow keeps tag
        values up to 8000 characters: the largest loads first, at most 20)."""
        biggest = sorted(self.loads, key=lambda load: -load.rows)[:20]
        return {
            "data.kind": self.kind,
            "data.identity": self.identity[:500],
            "data.loads": json.dumps([asdict(load) for load in biggest], separators=(",", ":")),
        }

    def describe(self) -> str:
        parts = [
            f"load {x.id} {x.source} ({x.kind}, {x.rows} rows)"
            if x.id is not None
            else f"{x.rows} rows from before loads were recorded"
            for x in self.loads
        ]
        return f"{self.rows} rows, {self.kind}: " + "; ".join(parts) if parts else "empty"


def read(cur) -> DataSet:
    """The table's data set, read with `cur` (inside the caller's transaction)."""
    cur.execute(QUERY, (UNRECORDED,))
    return DataSet(tuple(Load(*row) for row in cur.fetchall()))
