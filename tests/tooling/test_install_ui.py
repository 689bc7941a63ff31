"""``freqai-swing install-ui --from DIR``: a built FreqUI into freqtrade's UI folder, offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_bundle_cli
from tooling.frequi import UIFolderError, install_ui_from, installed_ui_version


def built_frequi(folder: Path) -> Path:
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text("<div id='app'></div>")
    (folder / "assets" / "index-abc.js").write_text("console.log('ui')")
    return folder


def test_a_built_folder_replaces_the_installed_ui(tmp_path: Path) -> None:
    destination = tmp_path / "installed"
    (destination / "assets").mkdir(parents=True)
    (destination / "assets" / "index-old.js").write_text("old")
    (destination / ".gitkeep").write_text("")  # freqtrade's own placeholder stays
    source = built_frequi(tmp_path / "frequi" / "dist")

    version = install_ui_from(tmp_path / "frequi", destination)  # the folder holding dist/

    assert sorted(path.name for path in (destination / "assets").iterdir()) == ["index-abc.js"]
    assert (destination / "index.html").read_text() == (source / "index.html").read_text()
    assert (destination / ".gitkeep").is_file()
    assert installed_ui_version(destination) == version
    assert str((tmp_path / "frequi").resolve()) in version


def test_a_folder_without_a_built_ui_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    destination = tmp_path / "installed"
    destination.mkdir()
    (destination / "index.html").write_text("kept")
    (tmp_path / "src").mkdir()
    with pytest.raises(UIFolderError, match="not a built FreqUI"):
        install_ui_from(tmp_path / "src", destination)
    assert (destination / "index.html").read_text() == "kept"

    result = run_bundle_cli("install-ui", "--from", str(tmp_path / "src"))
    assert result.returncode == 2
    assert f"{tmp_path / 'src'} is not a built FreqUI" in result.stderr
