"""The ``sources`` table: what each exported file looked like, so that a re-run reads only what
is new (a changed size or modification time, or candles and trades past a file's watermark)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa


class SourceLog:
    """The ``sources`` table: what each file looked like when it was last exported."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection
        rows = connection.execute("SELECT path, size, mtime_ns, watermark FROM sources").fetchall()
        self.known = {path: (size, mtime, watermark) for path, size, mtime, watermark in rows}
        self.pending: list[tuple[str, str, int, int, str | None, int]] = []
        self._keys: dict[Path, str] = {}

    @staticmethod
    def stat(path: Path) -> tuple[int, int]:
        status = path.stat()
        return status.st_size, status.st_mtime_ns

    def key(self, path: Path) -> str:
        """The file's absolute path, resolved once per export (it is asked for up to 3 times)."""
        if path not in self._keys:
            self._keys[path] = str(path.resolve())
        return self._keys[path]

    def unchanged(self, path: Path) -> bool:
        known = self.known.get(self.key(path))
        return known is not None and known[:2] == self.stat(path)

    def watermark(self, path: Path) -> str | None:
        known = self.known.get(self.key(path))
        return None if known is None else known[2]

    def record(self, path: Path, kind: str, rows: int, watermark: str | None = None) -> None:
        """Remember a file as read (written with the next ``flush``, in the same transaction)."""
        size, mtime = self.stat(path)
        key = self.key(path)
        self.pending.append((key, kind, size, mtime, watermark, rows))
        self.known[key] = (size, mtime, watermark)

    def flush(self) -> None:
        """One bulk ``INSERT OR REPLACE`` of the files read since the last flush."""
        if not self.pending:
            return
        names = ("path", "kind", "size", "mtime_ns", "watermark", "rows_read")
        table = pa.table(
            {
                name: pa.array(values, type)
                for name, values, type in zip(
                    names,
                    zip(*self.pending, strict=True),
                    (pa.string(), pa.string(), pa.int64(), pa.int64(), pa.string(), pa.int64()),
                    strict=True,
                )
            }
        )
        self.pending = []
        self.connection.register("incoming_sources", table)
        try:
            self.connection.execute(
                f"INSERT OR REPLACE INTO sources ({', '.join(names)}, exported_at) "  # noqa: S608
                f"SELECT {', '.join(names)}, ?::TIMESTAMP FROM incoming_sources",
                [pd.Timestamp.now(tz="UTC").tz_localize(None).to_pydatetime()],
            )
        finally:
            self.connection.unregister("incoming_sources")
