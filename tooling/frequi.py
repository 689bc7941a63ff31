"""``freqai-swing install-ui``: FreqUI into the environment's freqtrade, offline when it can be.

Freqtrade's API server serves whatever lies in its package folder
``freqtrade/rpc/api_server/ui/installed/`` at ``/``; ``freqtrade install-ui`` fills it from a
GitHub release, which needs internet. From a built FreqUI folder (``--from DIR``: the ``dist``
output of FreqUI's ``pnpm run build``, or a folder holding one, such as ``../shared/frequi``) the
same folder is filled with no network at all, with freqtrade's own clean-up first.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

logger = logging.getLogger(__name__)

#: Freqtrade's record of the installed UI version (``/ui_version`` reads it).
VERSION_FILE = ".uiversion"


class UIFolderError(ValueError):
    """The folder given is not a built FreqUI."""


def installed_ui_folder() -> Path:
    """The folder of the environment's freqtrade that its API server serves at ``/``."""
    import freqtrade

    return Path(freqtrade.__file__).parent / "rpc" / "api_server" / "ui" / "installed"


def built_ui(source: Path) -> Path:
    """The folder holding FreqUI's ``index.html``: ``source`` itself or its ``dist``."""
    for folder in (source, source / "dist"):
        if (folder / "index.html").is_file() and (folder / "assets").is_dir():
            return folder
    raise UIFolderError(
        f"{source} is not a built FreqUI: no index.html and assets/ in it or in {source / 'dist'}"
    )


def installed_ui_version(folder: Path | None = None) -> str | None:
    """The version freqtrade reports for the installed UI, None when none is installed."""
    from freqtrade.commands.deploy_ui import read_ui_version

    folder = folder or installed_ui_folder()
    return read_ui_version(folder) if (folder / "index.html").is_file() else None


def install_ui_from(source: Path, destination: Path | None = None) -> str:
    """Replace the installed UI by the built FreqUI in ``source``; return its version string."""
    from freqtrade.commands.deploy_ui import clean_ui_subdir

    built = built_ui(source)
    destination = destination or installed_ui_folder()
    own_version = built / VERSION_FILE
    version = (
        own_version.read_text(encoding="utf-8").strip()
        if own_version.is_file()
        else f"local build ({source.resolve()})"
    )
    clean_ui_subdir(destination)
    shutil.copytree(built, destination, dirs_exist_ok=True)
    (destination / VERSION_FILE).write_text(version, encoding="utf-8")
    return version


def install_ui_online(freqtrade: str) -> int:
    """Freqtrade's own installer: the latest FreqUI release from GitHub (needs internet)."""
    return subprocess.call([freqtrade, "install-ui"])
