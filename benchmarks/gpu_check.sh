#!/usr/bin/env bash
# The project's GPU checks in one go, as quoted in issue notes: the notebooks' `cuda` cells (chapter 21's is the
# benchmark at the paper's sizes) and a short real run with bf16, channels-last, torch.compile and EMA.
# Needs torch with CUDA; nbdev is not needed (tools/run_cells.py runs the cells), fastcore is.
#   OUT=runs/gpu bash benchmarks/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/gpu}
mkdir -p "$OUT"
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
python3 tools/run_cells.py nbs/01_langevin.ipynb nbs/21_train.ipynb --flags cuda
python3 - "$OUT" <<'PY'
import json, shutil, sys
from pathlib import Path
from energyflows.train import train
out = Path(sys.argv[1])
fast = ["dataset=synthetic", "image_size=32", "n_iters=400", "sample_every=200", "checkpoint_every=200", "log_every=50",
        "eval_samples=0", "precision=bf16", "channels_last=true", "compile=true"]
metrics = train("shortrun", out / "paper-bf16-compile", "paper", fast, progress=False)
print(json.dumps({k: metrics[k] for k in ("iterations", "seconds", "images_per_second", "bad_iterations", "rollbacks", "device")}))
shutil.copy(out / "paper-bf16-compile" / "samples" / "final.png", out / "paper-bf16-compile-final.png")
PY
# CoopFlow with Flow++ at the CIFAR-10 sizes: the bench ratios and a short bf16 run's iterations/s and peak memory
python3 -c "import sys; from energyflows.cli import main; sys.exit(main(sys.argv[1:]))" bench coopflow --preset paper --repeats 2 --set dataset=synthetic image_size=32 --out "$OUT/bench-coopflow.json"
python3 - "$OUT" <<'PY'
import json, sys, torch
from pathlib import Path
from energyflows.train import train
out = Path(sys.argv[1])
settings = ["dataset=synthetic", "image_size=32", "n_iters=100", "sample_every=0", "checkpoint_every=100", "log_every=20",
            "eval_samples=0", "precision=bf16"]
metrics = train("coopflow", out / "coopflow-paper-bf16", "paper", settings, progress=False)
print(json.dumps({**{k: metrics[k] for k in ("iterations", "seconds", "images_per_second", "bad_iterations")},
                  "iterations_per_second": metrics["iterations"] / metrics["seconds"],
                  "peak_mib": torch.cuda.max_memory_allocated() / 2**20}))
PY
