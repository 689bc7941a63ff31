"""``freqai-swing selftrain``: the self-training lifecycle (one pass, a loop, or a simulation)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from tooling.offline import DEFAULT_DATADIR, REPO_ROOT


def add_selftrain_command(commands: argparse._SubParsersAction) -> None:
    selftrain = commands.add_parser(
        "selftrain",
        help="one pass of the self-training lifecycle (or --loop, or --simulate over history)",
        description="Seven steps: collect data, evaluate the production bot, trigger, train a "
        "challenger (walk-forward validated), A/B test it on paper beside the champion, promote "
        "or keep, roll back. See docs/selftrain.md.",
    )
    selftrain.add_argument(
        "-c",
        "--config",
        type=Path,
        action="append",
        default=[],
        help="configs of the bots (default: base, freqai, dry-run, selftrain)",
    )
    selftrain.add_argument("--state-dir", type=Path, default=REPO_ROOT / "user_data" / "selftrain")
    selftrain.add_argument("--datadir", type=Path, default=DEFAULT_DATADIR)
    selftrain.add_argument("--pairs", nargs="+", help="default: the config's whitelist")
    selftrain.add_argument("--warehouse", type=Path, help="also record decisions in this DuckDB")
    selftrain.add_argument(
        "--online",
        action="store_true",
        help="step 1 runs freqtrade download-data (default: offline)",
    )
    selftrain.add_argument("--exchange-url", help="a running local exchange (offline mode)")
    selftrain.add_argument("--production-url", default="http://127.0.0.1:8080")
    selftrain.add_argument("--challenger-url", default="http://127.0.0.1:8081")
    selftrain.add_argument("--production-userdir", type=Path, default=REPO_ROOT / "user_data")
    selftrain.add_argument("--env-file", type=Path, default=REPO_ROOT / ".env")
    selftrain.add_argument("--force-retrain", action="store_true")
    selftrain.add_argument(
        "--no-train", action="store_true", help="only the A/B, promotion and rollback steps"
    )
    selftrain.add_argument(
        "--freqaimodel",
        help="default: SwingEnsembleClassifier; SwingXGBoostClassifier with --simulate",
    )
    selftrain.add_argument("--loop", action="store_true", help="a pass every --interval-hours")
    selftrain.add_argument("--interval-hours", type=float, default=24.0)
    selftrain.add_argument(
        "--simulate",
        action="store_true",
        help="replay the lifecycle over history with real backtests",
    )
    selftrain.add_argument("--start", help="--simulate: first day (UTC)")
    selftrain.add_argument("--end", help="--simulate: last day (default: end of data)")
    selftrain.add_argument(
        "--output", type=Path, default=REPO_ROOT / "user_data" / "selftrain-simulation"
    )
    selftrain.set_defaults(handler=_command_selftrain)


def _command_selftrain(args: argparse.Namespace) -> int:
    from freqai_swing.settings import SwingConfigError, load_swing_settings

    log = logging.getLogger("freqai_swing")
    configs = args.config or [
        REPO_ROOT / "config" / name
        for name in ("base.json", "freqai.json", "dry-run.json", "selftrain.json")
    ]
    merged: dict = {}
    for path in configs:
        try:
            block = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            log.error("%s: unreadable config (%s)", path, error)
            return 2
        merged.setdefault("exchange", {}).update(block.get("exchange", {}))
        for key in ("swing", "freqai"):
            merged.setdefault(key, {}).update(block.get(key, {}))
    try:
        settings = load_swing_settings(merged).selftrain
    except SwingConfigError as error:
        log.error("%s", error)
        return 2
    pairs = args.pairs or merged["exchange"].get("pair_whitelist", [])
    if args.simulate:
        import pandas as pd

        from tooling.simulate_lifecycle import run_simulation

        if not args.start:
            log.error("--simulate needs --start (the first day of the replay)")
            return 2
        end = (
            pd.Timestamp(args.end, tz="UTC")
            if args.end
            else pd.read_feather(args.datadir / f"{pairs[0].replace('/', '_')}-1h.feather")["date"]
            .iloc[-1]
            .floor("D")
        )
        freqaimodel = args.freqaimodel or "SwingXGBoostClassifier"
        _, summary = run_simulation(
            list(pairs),
            pd.Timestamp(args.start, tz="UTC"),
            end,
            args.datadir,
            args.output,
            settings,
            freqaimodel,
        )
        print((args.output / "simulation.md").read_text())
        return 0
    from tooling.selftrain import context_from_arguments, run_loop, run_pass

    context = context_from_arguments(args, settings, configs, pairs)
    if args.loop:
        run_loop(context, args.interval_hours * 3600)
        return 0
    decisions = run_pass(
        context, force_retrain=args.force_retrain, allow_training=not args.no_train
    )
    log.info("selftrain pass done: %s", ", ".join(decisions) or "nothing to do")
    return 0
