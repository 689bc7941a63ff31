"""The model registry: every trained model version, its checkpoint and its status.

The store is one SQLite file (``registry.sqlite``) beside a ``checkpoints/`` folder. SQLite
because every change is one ``BEGIN IMMEDIATE`` … ``COMMIT`` transaction with a durable journal
(WAL, ``synchronous=FULL``): a process killed at any instant leaves the registry as it was before
or after the change, never half of it. "Never two production models" is not a convention of the
code but a partial unique index (``status`` unique where it is ``production``), so even a buggy
caller cannot commit a second one; a promotion retires the old champion and crowns the new one in
the same transaction.

A checkpoint is a copy of the model's FreqAI folder (``models/<identifier>``). It is copied to a
temporary name and renamed into place *before* the row that points at it is committed, so a
committed row never points at a half-copied folder; a folder no row points at (a crash between
the copy and the commit, or between a prune's commit and its deletion) is removed by the next
:meth:`ModelRegistry.prune`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from freqai_swing.lifecycle.checkpoints import folder_hash, install_checkpoint, safe_name
from freqai_swing.lifecycle.versions import Decision, ModelVersion, RegistryError, Status

__all__ = [
    "Decision",
    "ModelRegistry",
    "ModelVersion",
    "RegistryError",
    "Status",
    "folder_hash",
    "install_checkpoint",
]

logger = logging.getLogger(__name__)

_SCHEMA: Final[tuple[str, ...]] = (
    """CREATE TABLE IF NOT EXISTS versions (
        version_id TEXT PRIMARY KEY,
        identifier TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        trained_at TEXT NOT NULL,
        train_start TEXT,
        train_end TEXT,
        parameters TEXT NOT NULL,
        metrics TEXT NOT NULL,
        file_hash TEXT,
        checkpoint TEXT,
        status TEXT NOT NULL CHECK (status IN ('testing', 'production', 'retired')),
        promoted_at TEXT,
        retired_at TEXT
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS one_production ON versions (status) "
    "WHERE status = 'production'",
    """CREATE TABLE IF NOT EXISTS decisions (
        decision_id INTEGER PRIMARY KEY AUTOINCREMENT,
        decided_at TEXT NOT NULL,
        kind TEXT NOT NULL,
        version_id TEXT,
        champion_id TEXT,
        figures TEXT NOT NULL,
        message TEXT NOT NULL
    )""",
)


def _now() -> datetime:
    return datetime.now(UTC)


def _text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class ModelRegistry:
    """The registry under ``root`` (``registry.sqlite`` and ``checkpoints/``)."""

    def __init__(self, root: Path, keep_checkpoints: int = 5) -> None:
        if keep_checkpoints < 1:
            raise ValueError("keep_checkpoints must be at least 1")
        self.root = Path(root)
        self.keep_checkpoints = keep_checkpoints
        self.checkpoints = self.root / "checkpoints"
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        self.path = self.root / "registry.sqlite"
        self._connection = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=FULL")
        with self._transaction() as cursor:
            for statement in _SCHEMA:
                cursor.execute(statement)

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> ModelRegistry:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        cursor = self._connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")

    # -- reading ---------------------------------------------------------------------------

    def _version(self, row: sqlite3.Row | tuple[Any, ...]) -> ModelVersion:
        (
            vid,
            identifier,
            registered,
            trained,
            start,
            end,
            params,
            metrics,
            digest,
            checkpoint,
            status,
            promoted,
            retired,
        ) = row
        return ModelVersion(
            version_id=vid,
            identifier=identifier,
            trained_at=_moment(trained),  # type: ignore[arg-type]
            train_start=_moment(start),
            train_end=_moment(end),
            parameters=json.loads(params),
            metrics=json.loads(metrics),
            file_hash=digest,
            checkpoint=Path(checkpoint) if checkpoint else None,
            status=status,
            promoted_at=_moment(promoted),
            retired_at=_moment(retired),
            registered_at=_moment(registered),
        )

    _COLUMNS: Final = (
        "version_id, identifier, registered_at, trained_at, train_start, train_end, parameters, "
        "metrics, file_hash, checkpoint, status, promoted_at, retired_at"
    )

    def versions(self) -> list[ModelVersion]:
        """Every version, oldest registration first."""
        rows = self._connection.execute(
            f"SELECT {self._COLUMNS} FROM versions ORDER BY registered_at, version_id"  # noqa: S608
        ).fetchall()
        return [self._version(row) for row in rows]

    def get(self, version_id: str) -> ModelVersion:
        row = self._connection.execute(
            f"SELECT {self._COLUMNS} FROM versions WHERE version_id = ?",  # noqa: S608
            (version_id,),
        ).fetchone()
        if row is None:
            raise RegistryError(f"no model version {version_id!r} in {self.path}")
        return self._version(row)

    def production(self) -> ModelVersion | None:
        found = [v for v in self.versions() if v.status == "production"]
        return found[0] if found else None

    def challengers(self) -> list[ModelVersion]:
        return [v for v in self.versions() if v.status == "testing"]

    def previous_champion(self) -> ModelVersion | None:
        """The most recently retired champion whose checkpoint is still on disk, leaving out
        versions that were themselves rolled back (or retired for failing)."""
        candidates = [v for v in self.fallbacks() if v.promoted_at is not None]
        return max(candidates, key=_last_in_production, default=None)

    def fallbacks(self) -> list[ModelVersion]:
        """Retired versions with a checkpoint on disk, leaving out champions that were
        rolled back or retired for failing their thresholds: what production may go back to."""
        replaced = {d.champion_id for d in self.decisions() if d.kind in {"rollback", "retire"}}
        return [
            v
            for v in self.versions()
            if v.status == "retired" and v.checkpoint is not None and v.version_id not in replaced
        ]

    def promoted_by_test(self) -> bool:
        """Whether the production model got there by winning an A/B test (not as the first
        model, nor by a rollback): only then does the rollback rule watch it."""
        production = self.production()
        if production is None:
            return False
        kinds = [
            d.kind
            for d in self.decisions()
            if d.version_id == production.version_id
            and d.kind in {"initial", "promote", "rollback"}
        ]
        return bool(kinds) and kinds[-1] == "promote"

    def decisions(self) -> list[Decision]:
        rows = self._connection.execute(
            "SELECT decision_id, decided_at, kind, version_id, champion_id, figures, message "
            "FROM decisions ORDER BY decision_id"
        ).fetchall()
        return [
            Decision(row[0], _moment(row[1]), row[2], row[3], row[4], json.loads(row[5]), row[6])  # type: ignore[arg-type]
            for row in rows
        ]

    # -- changing --------------------------------------------------------------------------

    def register(
        self, version: ModelVersion, model_folder: Path | None, at: datetime | None = None
    ) -> ModelVersion:
        """Checkpoint ``model_folder`` and record ``version`` (status ``testing`` unless given).

        Registering the same ``version_id`` twice returns the recorded version unchanged.
        """
        try:
            return self.get(version.version_id)
        except RegistryError:
            pass
        checkpoint, digest = None, version.file_hash
        if model_folder is not None:
            if not Path(model_folder).is_dir():
                raise RegistryError(f"model folder {model_folder} does not exist")
            checkpoint = self.checkpoints / safe_name(version.version_id)
            temporary = checkpoint.with_name(f"{checkpoint.name}.tmp-{os.getpid()}")
            shutil.rmtree(temporary, ignore_errors=True)
            # a backtest's per-window prediction cache is no part of the model
            shutil.copytree(
                model_folder, temporary, ignore=shutil.ignore_patterns("backtesting_predictions")
            )
            digest = folder_hash(temporary)
            shutil.rmtree(checkpoint, ignore_errors=True)
            temporary.replace(checkpoint)
        moment = _text(at or _now())
        with self._transaction() as cursor:
            cursor.execute(
                f"INSERT INTO versions ({self._COLUMNS}) "  # noqa: S608
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    version.version_id,
                    version.identifier,
                    moment,
                    _text(version.trained_at),
                    _text(version.train_start),
                    _text(version.train_end),
                    json.dumps(dict(version.parameters), default=str, sort_keys=True),
                    json.dumps(dict(version.metrics), default=str, sort_keys=True),
                    digest,
                    str(checkpoint) if checkpoint else None,
                    version.status,
                    _text(version.promoted_at),
                    None,
                ),
            )
            self._log(
                cursor,
                "register",
                version.version_id,
                None,
                version.metrics,
                f"registered {version.version_id} as {version.status}",
                moment,
            )
        return self.get(version.version_id)

    def promote(
        self,
        version_id: str,
        figures: Mapping[str, Any],
        message: str,
        at: datetime | None = None,
        kind: str = "promote",
    ) -> ModelVersion:
        """Make ``version_id`` the champion and retire the old one, in one transaction."""
        moment = _text(at or _now())
        target = self.get(version_id)
        if target.checkpoint is None and target.file_hash is not None:
            raise RegistryError(f"{version_id} has no checkpoint left to trade")
        with self._transaction() as cursor:
            old = cursor.execute(
                "SELECT version_id FROM versions WHERE status = 'production'"
            ).fetchone()
            if old is not None and old[0] != version_id:
                cursor.execute(
                    "UPDATE versions SET status = 'retired', retired_at = ? WHERE version_id = ?",
                    (moment, old[0]),
                )
            cursor.execute(
                "UPDATE versions SET status = 'production', promoted_at = ?, retired_at = NULL "
                "WHERE version_id = ?",
                (moment, version_id),
            )
            self._log(cursor, kind, version_id, old[0] if old else None, figures, message, moment)
        logger.info("%s: %s", kind, message)
        return self.get(version_id)

    def reject(
        self, version_id: str, figures: Mapping[str, Any], message: str, at: datetime | None = None
    ) -> ModelVersion:
        """Retire a challenger that lost (its checkpoint stays until pruned)."""
        moment = _text(at or _now())
        with self._transaction() as cursor:
            changed = cursor.execute(
                "UPDATE versions SET status = 'retired', retired_at = ? "
                "WHERE version_id = ? AND status = 'testing'",
                (moment, version_id),
            ).rowcount
            if changed != 1:
                raise RegistryError(f"{version_id} is not a challenger under test")
            champion = cursor.execute(
                "SELECT version_id FROM versions WHERE status = 'production'"
            ).fetchone()
            self._log(
                cursor,
                "keep",
                version_id,
                champion[0] if champion else None,
                figures,
                message,
                moment,
            )
        logger.info("keep: %s", message)
        return self.get(version_id)

    def retire(
        self,
        target: str | None,
        figures: Mapping[str, Any],
        message: str,
        at: datetime | None = None,
    ) -> ModelVersion | None:
        """Retire the champion for failing its thresholds: ``target`` becomes production, or
        none does (cash) when it is ``None``; one transaction, logged as ``retire``."""
        if target is not None:
            return self.promote(target, figures, message, at=at, kind="retire")
        moment = _text(at or _now())
        with self._transaction() as cursor:
            old = cursor.execute(
                "SELECT version_id FROM versions WHERE status = 'production'"
            ).fetchone()
            if old is None:
                raise RegistryError("no champion to retire")
            cursor.execute(
                "UPDATE versions SET status = 'retired', retired_at = ? WHERE version_id = ?",
                (moment, old[0]),
            )
            self._log(cursor, "retire", None, old[0], figures, message, moment)
        logger.info("retire: %s", message)
        return None

    def rollback(
        self, figures: Mapping[str, Any], message: str, at: datetime | None = None
    ) -> ModelVersion:
        """Give production back to the previous champion (one transaction)."""
        target = self.previous_champion()
        if target is None:
            raise RegistryError("no previous champion with a checkpoint to roll back to")
        return self.promote(target.version_id, figures, message, at=at, kind="rollback")

    def log(
        self,
        kind: str,
        message: str,
        figures: Mapping[str, Any] | None = None,
        version_id: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Record a decision that changes no status (a trigger, a skipped retrain, …)."""
        champion = self.production()
        with self._transaction() as cursor:
            self._log(
                cursor,
                kind,
                version_id,
                champion.version_id if champion else None,
                figures or {},
                message,
                _text(at or _now()),
            )

    @staticmethod
    def _log(
        cursor: sqlite3.Cursor,
        kind: str,
        version_id: str | None,
        champion_id: str | None,
        figures: Mapping[str, Any],
        message: str,
        moment: str | None,
    ) -> None:
        cursor.execute(
            "INSERT INTO decisions (decided_at, kind, version_id, champion_id, figures, message) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                moment,
                kind,
                version_id,
                champion_id,
                json.dumps(dict(figures), default=str, sort_keys=True),
                message,
            ),
        )

    def prune(self) -> list[str]:
        """Keep ``keep_checkpoints`` checkpoints: production, then past champions newest first,
        then other versions newest first; delete the rest's folders. Returns the pruned ids.

        The production checkpoint is never pruned. The rows stay (with ``checkpoint`` NULL),
        so no version is ever lost from the record.
        """
        with_files = [v for v in self.versions() if v.checkpoint is not None]

        def rank(version: ModelVersion) -> tuple[int, str]:
            if version.status == "production":
                return (0, "")
            if version.promoted_at is not None:
                return (1, _invert(_text(version.promoted_at)))
            return (2, _invert(_text(version.registered_at)))

        ordered = sorted(with_files, key=rank)
        doomed = [v for v in ordered[self.keep_checkpoints :] if v.status != "production"]
        if doomed:
            with self._transaction() as cursor:
                for version in doomed:
                    cursor.execute(
                        "UPDATE versions SET checkpoint = NULL WHERE version_id = ?",
                        (version.version_id,),
                    )
        for version in doomed:
            shutil.rmtree(version.checkpoint, ignore_errors=True)  # type: ignore[arg-type]
            logger.info("Pruned the checkpoint of %s.", version.version_id)
        referenced = {v.checkpoint.name for v in self.versions() if v.checkpoint is not None}
        for folder in self.checkpoints.iterdir():
            if folder.name not in referenced:
                shutil.rmtree(folder, ignore_errors=True)
        return [v.version_id for v in doomed]

    def sync_warehouse(self, warehouse: Path) -> int:
        """Mirror the statuses and the decision log into the warehouse (see
        :func:`freqai_swing.lifecycle.registry_warehouse.sync_warehouse`)."""
        from freqai_swing.lifecycle.registry_warehouse import sync_warehouse

        return sync_warehouse(self, warehouse)


def _last_in_production(version: ModelVersion) -> datetime:
    moment = version.retired_at or version.promoted_at
    return moment or datetime.min.replace(tzinfo=UTC)


def _invert(text: str | None) -> str:
    """Sort key that orders ISO timestamps newest first."""
    return "".join(chr(0x10FFFF - ord(c)) for c in (text or ""))
