"""Benchmark (not a test): how long ``freqai-swing --help`` takes, beside ``freqtrade --version``.

``python -m tooling.bench.cli_startup`` runs each command ``--repeat`` times as a fresh process
(the way a user starts it) and prints mean ± standard deviation and the ratio to freqtrade's own
start-up. Building the parser must not import the heavy libraries (boosters, DuckDB, the
report): goal ``freqai-swing --help`` within about a second, no slower than 1.5x
``freqtrade --version``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tooling.offline import REPO_ROOT, bundle_environment, freqtrade_executable

GOAL_RATIO = 1.5
COMMANDS = {
    "freqai-swing --help": [sys.executable, "-m", "tooling.cli", "--help"],
    "freqai-swing evaluate --help": [sys.executable, "-m", "tooling.cli", "evaluate", "--help"],
    "freqtrade --version": [freqtrade_executable(), "--version"],
}


def seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, cwd=REPO_ROOT, env=bundle_environment(), capture_output=True, check=True
    )
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--json", type=Path, default=REPO_ROOT / "user_data" / "bench" / "cli_startup.json"
    )
    args = parser.parse_args(argv)
    runs: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):  # interleaved, so a busy moment hits every command alike
        for name, command in COMMANDS.items():
            runs[name].append(seconds(command))
    figures = {
        name: {
            "mean_seconds": round(statistics.mean(times), 3),
            "stdev_seconds": round(statistics.stdev(times), 3) if len(times) > 1 else 0.0,
            "runs": [round(value, 3) for value in times],
        }
        for name, times in runs.items()
    }
    reference = figures["freqtrade --version"]["mean_seconds"]
    ratio = figures["freqai-swing --help"]["mean_seconds"] / reference
    report = {"repeat": args.repeat, **figures, "help_vs_freqtrade_version": round(ratio, 2)}
    report["goal_met"] = ratio <= GOAL_RATIO
    for name, row in figures.items():
        print(f"{name:30} {row['mean_seconds']:6.2f} s ± {row['stdev_seconds']:.2f}")
    print(f"freqai-swing --help / freqtrade --version = {ratio:.2f}x (goal <= {GOAL_RATIO}x)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
