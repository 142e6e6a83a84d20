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
