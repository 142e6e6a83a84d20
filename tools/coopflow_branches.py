"""Chapter 22's settings sweep: CoopFlow(Pre) variants branched from one shared flow pretraining, on two CPU cores.

    python tools/coopflow_branches.py NAME '{"lr": 0.001, "ebm_warmup_iters": 400, "n_iters": 1800}' [--root DIR]

The first call trains the `offline` preset's 1,000 pretraining iterations into DIR/pre (default /tmp/coopflow-branches).
Each call copies that folder to DIR/runs/NAME, writes the given settings into the copy's config and checkpoint (the
EBM's and flow's learning rates into their optimisers too), and resumes it to `n_iters` (default 1,400). This is a
research shortcut, not a feature: `train --resume` refuses changed settings on purpose. It prints one JSON line and
appends it to DIR/results.jsonl: minutes, the last health figures, FD-FMNIST (2,000 samples) of the flow's proposals
x̂ and of the revisions x̃ at the training and the test step sizes.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import time
from pathlib import Path

import torch

from energyflows.metrics import offline_fd
from energyflows.train import load_run, train

OPTIMIZER_RATES = (("ebm", "lr"), ("flow", "flow_lr"), ("dequantizer", "flow_lr"))  # optimiser, the setting of its rate


def branch(pre: Path, run: Path, settings: dict, n_iters: int) -> dict:
    "Copy the pretrained run `pre` to `run`, put `settings` in its config and checkpoint, and train it on to `n_iters`."
    shutil.rmtree(run, ignore_errors=True)
    shutil.copytree(pre, run)
    config = json.loads((run / "config.json").read_text())
    config.update(settings)
    (run / "config.json").write_text(json.dumps(config, indent=2))
    state = torch.load(run / "checkpoint.pt", weights_only=False)
    state["config"].update(settings)
    for optimizer, key in OPTIMIZER_RATES:
        if key in settings and optimizer in state["optimizers"]:
            for group in state["optimizers"][optimizer]["param_groups"]:
                group["base_lr"] = group["lr"] = settings[key]
    torch.save(state, run / "checkpoint.pt")
    return train("coopflow", run, resume=True, overrides={"n_iters": n_iters}, progress=False)


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
    result = branch(pre, args.root / "runs" / args.name, {"n_iters": 1000, **settings}, n_iters)
    line = {"name": args.name, "settings": settings, "n_iters": n_iters, "minutes": round((time.time() - clock) / 60, 2),
            "health": result.get("health"), "bad_iterations": result["bad_iterations"], **scores(args.root / "runs" / args.name)}
    print(json.dumps(line))
    with open(args.root / "results.jsonl", "a") as f:
        f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
