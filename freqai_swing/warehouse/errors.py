"""The one error type an export raises for bad input: it always names the file."""

from __future__ import annotations

from pathlib import Path


class WarehouseInputError(RuntimeError):
    """A source file or folder that cannot be exported as it is; nothing was written."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason
