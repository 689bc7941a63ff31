"""Model checkpoints on disk: their hash and their installation into a bot's models folder."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from freqai_swing.lifecycle.versions import ModelVersion, RegistryError


def folder_hash(folder: Path) -> str:
    """SHA-256 over every file's relative path and bytes, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def safe_name(version_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in version_id)


def install_checkpoint(version: ModelVersion, models_dir: Path, identifier: str) -> Path:
    """Copy a checkpoint into a bot's ``models/<identifier>`` so that its FreqAI loads it.

    FreqAI's ``pair_dictionary.json`` stores each pair's model folder as an absolute
    ``data_path``; it is rewritten to the new place. The copy goes to a temporary name first
    and replaces the old folder by rename.
    """
    if version.checkpoint is None or not version.checkpoint.is_dir():
        raise RegistryError(f"{version.version_id} has no checkpoint on disk")
    target = Path(models_dir) / identifier
    temporary = target.with_name(f"{identifier}.install-{os.getpid()}")
    shutil.rmtree(temporary, ignore_errors=True)
    shutil.copytree(version.checkpoint, temporary)
    dictionary = temporary / "pair_dictionary.json"
    if dictionary.is_file():
        pairs = json.loads(dictionary.read_text())
        for entry in pairs.values():
            if entry.get("data_path"):
                entry["data_path"] = str(target / Path(entry["data_path"]).name)
        dictionary.write_text(json.dumps(pairs, indent=4))
    (temporary / "selftrain_version.json").write_text(
        json.dumps({"version_id": version.version_id, "file_hash": version.file_hash})
    )
    # the bot's own record of its live predictions belongs to the bot, not to the model
    for kept in target.glob("historic_predictions*.pkl") if target.is_dir() else ():
        shutil.copy2(kept, temporary / kept.name)
    old = target.with_name(f"{identifier}.old-{os.getpid()}")
    if target.exists():
        target.replace(old)
    temporary.replace(target)
    shutil.rmtree(old, ignore_errors=True)
    return target
