#!/usr/bin/env bash
# The project's GPU checks in one go, as quoted in issue notes, most wanted first, each section under its own time limit
# so that one slow section cannot eat the others' (a lent GPU has minutes, not hours):
#   1. `bench coopflow` at the CIFAR-10 sizes (Flow++ and the ResNet EBM, batch 28, T = 30): the joint iteration, a
#      Langevin step and sampling against the plain fp32 reference, fp32 and bf16;
#   2. a `coopflow --preset cifar10-pre` run in bf16 with its Langevin health figures in every log row, its phases
#      shortened to what fits (the preset's own are 535k + 45k + 134k iterations); Ctrl-C at the limit keeps its log;
#   3. the notebooks' `cuda` cells (chapter 01's memory check, chapter 21's short-run benchmark at the paper's sizes).
# No CIFAR-10 on a machine without network: the synthetic set at 32×32 stands in (speed and health, not quality).
# Needs torch with CUDA; nbdev is not needed (tools/run_cells.py runs the cells), fastcore is.
#   OUT=runs/gpu bash benchmarks/gpu_check.sh          (limits in seconds: BENCH_S, RUN_S, CELLS_S)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/gpu}
mkdir -p "$OUT"
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD" PYTHONUNBUFFERED=1
CLI=(python3 -c "import sys; from energyflows.cli import main; sys.exit(main(sys.argv[1:]))")
DATA=(dataset=synthetic image_size=32)
failed=0

section() {  # section NAME SECONDS COMMAND...: run COMMAND under a limit (Ctrl-C, then kill), say how it ended
    local name=$1 limit=$2 start=$SECONDS
    shift 2
    echo "== $name (limit $limit s)"
    timeout -s INT -k 20 "$limit" "$@"
    local rc=$?
    echo "== $name: exit $rc after $((SECONDS - start)) s"
    [ "$rc" -eq 0 ] || failed=$((failed + 1))
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"

section bench-coopflow "${BENCH_S:-150}" "${CLI[@]}" bench coopflow --preset cifar10-pre --repeats 2 --variants fp32 bf16 \
    --set "${DATA[@]}" pretrain_iters=0 ebm_warmup_iters=0 --out "$OUT/bench-coopflow.json"

run="$OUT/coopflow-cifar10-pre"
section coopflow-cifar10-pre "${RUN_S:-210}" "${CLI[@]}" train coopflow --preset cifar10-pre --out "$run" --set "${DATA[@]}" \
    precision=bf16 pretrain_iters=200 ebm_warmup_iters=100 n_iters=1000 log_every=25 health_every=25 sample_every=0 \
    checkpoint_every=100 eval_samples=0
python3 - "$run" <<'PY'
import csv, json, sys, torch
from pathlib import Path
run = Path(sys.argv[1])
rows = list(csv.DictReader((run / "log.csv").open())) if (run / "log.csv").exists() else []
keep = ("iteration", "flow_data_bits_per_dim", "loss_ebm", "f_data", "f_samples", "revision_distance", "revision_mse", "f_gap",
        "max_step", "bad_iterations")
for row in rows:
    print("  ".join(f"{k} {float(row[k]):.4g}" for k in keep if row.get(k)))
print("log rows:", len(rows), "| checkpoint:", (run / "checkpoint.pt").exists())
PY
cp "$run/log.csv" "$OUT/coopflow-cifar10-pre-log.csv" 2>/dev/null
cp "$run/run.log" "$OUT/coopflow-cifar10-pre-run.log" 2>/dev/null
cp "$run/samples/final.png" "$OUT/coopflow-cifar10-pre-final.png" 2>/dev/null
rm -rf "$run"  # the checkpoint is ~0.5 GB and cannot come back

section cuda-cells "${CELLS_S:-120}" python3 tools/run_cells.py nbs/01_langevin.ipynb nbs/21_train.ipynb --flags cuda
echo "gpu_check: $failed section(s) failed or ran out of time"
