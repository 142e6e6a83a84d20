"""Chapter 22's settings sweep: CoopFlow(Pre) variants branched from one shared flow pretraining, on two CPU cores.

    python tools/coopflow_branches.py NAME '{"lr": 0.001, "ebm_warmup_iters": 400, "n_iters": 1800}' [--root DIR]

The first call trains the `offline` preset's 1,000 pretraining iterations into DIR/pre (default /tmp/coopflow-branches).
Each call starts DIR/runs/NAME from that run's state with the given settings on top of `offline` (chapter 21's
`branch_from`: the optimisers' moments carry on at the new rates) and trains it to `n_iters` (default 1,400). It
prints one JSON line and appends it to DIR/results.jsonl: minutes, the last health figures, FD-FMNIST (2,000
samples) of the flow's proposals x̂ and of the revisions x̃ at the training and the test step sizes.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from energyflows.metrics import offline_fd
from energyflows.train import load_run, train


def branch(pre: Path, run: Path, settings: dict, n_iters: int) -> dict:
    "A new run in `run` that starts from the pretrained run `pre` (chapter 21's `branch_from`) with `settings`, trained to `n_iters`."
    return train("coopflow", run, "offline", {**settings, "n_iters": n_iters}, progress=False, overwrite=True, branch_from=pre)


def scores(run: Path, n: int = 2000) -> dict:
    "FD-FMNIST of the run's flow proposals and of their revisions at the training and the test step sizes."
    trainer = load_run(run)
    config = trainer.method.config
    trainer.method.config = dataclasses.replace(config, mode="flow")
    out = {"fd_proposals": offline_fd(trainer.sample(n))}
    for step in sorted({config.step_size, config.test_step_size}):
        trainer.method.config = dataclasses.replace(config, test_step_size=step)
        out[f"fd_revised_{step:g}"] = offline_fd(trainer.sample(n))
    trainer.method.config = config
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the branch's folder name under ROOT/runs")
    parser.add_argument("settings", nargs="?", default="{}", help="JSON settings of the branch (n_iters: where it stops)")
    parser.add_argument("--root", type=Path, default=Path("/tmp/coopflow-branches"))
    args = parser.parse_args()
    settings = json.loads(args.settings)
    n_iters = settings.pop("n_iters", 1400)
    pre = args.root / "pre"
    if not (pre / "metrics.json").exists():
        train("coopflow", pre, "offline", {"n_iters": 1000}, progress=False)  # the pretraining: the EBM is not trained yet
    clock = time.time()
    result = branch(pre, args.root / "runs" / args.name, settings, n_iters)
    line = {"name": args.name, "settings": settings, "n_iters": n_iters, "minutes": round((time.time() - clock) / 60, 2),
            "health": result.get("health"), "bad_iterations": result["bad_iterations"], **scores(args.root / "runs" / args.name)}
    print(json.dumps(line))
    with open(args.root / "results.jsonl", "a") as f:
        f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
