"""CDRL and DRL on images (chapter 27) from the command line: train, sample, resume, class labels, bad input."""
import csv
import os
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [str(Path(sys.executable).parent / "energyflows")]


def run(*args, timeout=600):
    return subprocess.run(COMMAND + [str(a) for a in args], cwd=ROOT, text=True, capture_output=True, timeout=timeout)


def checkpoint(out: Path) -> dict:
    return torch.load(out / "checkpoint.pt", weights_only=False)


def sampled(out: Path, n: int = 4) -> np.ndarray:
    proc = run("sample", out, "--n", n, "--out", out / "s.npz")
    assert proc.returncode == 0, proc.stderr
    images = np.load(out / "s.npz")["images"]
    assert 0 <= images.min() and images.max() <= 1
    return images


def test_cdrl_trains_and_samples_from_the_command_line(tmp_path):
    out = tmp_path / "cdrl"
    proc = run("train", "cdrl", "--preset", "tiny", "--out", out)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["method"] == "cdrl" and metrics["iterations"] == 12 and metrics["bad_iterations"] == 0
    assert set(checkpoint(out)["models"]) == {"ebm", "initializer"}
    rows = list(csv.DictReader((out / "log.csv").open()))
    assert all(np.isfinite(float(r[k])) for r in rows for k in ("revision_mse", "f_gap", "max_step", "loss_ebm", "loss_initializer"))
    assert sampled(out).shape == (4, 3, 16, 16)
    refused = run("sample", out, "--views", "3")
    assert refused.returncode == 2 and "--views renders turntables of 3-D-aware runs (nerf-lebm)" in refused.stderr
    assert "n_steps = 15: K, Langevin steps per level" in run("train", "cdrl", "--help").stdout


def test_drl_trains_without_an_initializer_from_the_command_line(tmp_path):
    out = tmp_path / "drl"
    proc = run("train", "drl", "--preset", "tiny", "--out", out, "--set", "n_iters=4", "checkpoint_every=4", "sample_every=0")
    assert proc.returncode == 0, proc.stderr
    state = checkpoint(out)
    assert set(state["models"]) == {"ebm"} and state["config"]["n_steps"] == 4 and state["config"]["step_rule"] == "drl"
    assert sampled(out, 2).shape == (2, 3, 16, 16)


def test_cdrl_resumes_exactly(tmp_path):
    settings = ["--set", "checkpoint_every=3", "sample_every=0"]
    assert run("train", "cdrl", "--preset", "tiny", "--out", tmp_path / "whole", *settings).returncode == 0
    part = run("train", "cdrl", "--preset", "tiny", "--out", tmp_path / "parts", *settings, "n_iters=6")
    assert part.returncode == 0, part.stderr
    resumed = run("train", "cdrl", "--out", tmp_path / "parts", "--resume", "--set", "n_iters=12")
    assert resumed.returncode == 0, resumed.stderr
    a, b = checkpoint(tmp_path / "whole"), checkpoint(tmp_path / "parts")
    assert a["iteration"] == b["iteration"] == 12
    for part_name in ("models", "ema"):
        for net in a[part_name]:
            assert all(torch.equal(a[part_name][net][k], b[part_name][net][k]) for k in a[part_name][net]), (part_name, net)


def test_class_conditional_cdrl_with_guidance_from_the_command_line(tmp_path):
    out = tmp_path / "cond"
    proc = run("train", "cdrl", "--preset", "tiny", "--out", out, "--set", "n_classes=4", "guidance=0.7", "n_iters=4",
               "checkpoint_every=4", "sample_every=0")
    assert proc.returncode == 0, proc.stderr
    assert checkpoint(out)["config"]["n_classes"] == 4
    assert sampled(out, 4).shape == (4, 3, 16, 16)


@pytest.mark.parametrize("args, message", [
    (["--set", "guidance=1"], "`guidance` (1) needs a class-conditional model"),
    (["--set", "n_classes=2"], "`n_classes` is 2 but synthetic has labels up to 3"),
    (["--set", "loss_weights=snr"], "`loss_weights` must be one of"),
    (["--set", "step_rule=fast"], "`step_rule` must be one of"),
    (["--set", "image_size=18"], "`image_size` must be divisible by 2^(resolutions − 1) = 4, got 18"),
    (["--preset", "huge"], "`preset` must be one of"),
])
def test_cdrl_bad_input_says_what_is_allowed(tmp_path, args, message):
    proc = run("train", "cdrl", "--out", tmp_path / "bad", *args)
    assert proc.returncode == 2, proc.stdout
    assert message in proc.stderr, proc.stderr


def test_cdrl_under_two_processes(tmp_path):
    # DDP (gloo, CPU): the EBM and the initializer train in two processes, class-conditional, and the run samples
    launcher = [str(Path(sys.executable).parent / "torchrun"), "--standalone", "--nproc_per_node", "2", "--no-python", COMMAND[0]]
    out = tmp_path / "two"
    proc = subprocess.run(launcher + ["train", "cdrl", "--preset", "tiny", "--out", str(out), "--set", "n_classes=4", "n_iters=6",
                                      "checkpoint_every=6", "sample_every=0"],
                          cwd=ROOT, text=True, capture_output=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["processes"] == 2 and metrics["iterations"] == 6 and metrics["bad_iterations"] == 0
    assert sampled(out, 2).shape == (2, 3, 16, 16)


@pytest.mark.parametrize("method", ["cdrl", "drl"])
def test_bench_measures_against_a_plain_reference(tmp_path, method):
    proc = run("bench", method, "--preset", "tiny", "--repeats", "1", "--out", tmp_path / "bench.json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads((tmp_path / "bench.json").read_text())
    assert [r["setting"] for r in rows] == ["reference", "project fp32"]
    keys = ("langevin_step", "train_iteration", "sampling")
    assert all(rows[0][f"{k}_ratio"] == 1.0 for k in keys)
    assert all(np.isfinite(r[k]) and r[k] > 0 for r in rows for k in keys)


def test_eval_scores_fd_and_out_of_distribution(tmp_path):
    out = tmp_path / "fashion"
    proc = run("train", "cdrl", "--preset", "tiny", "--out", out, "--set", "dataset=fashion-mnist", "data_limit=64", "image_size=32",
               "ebm_resolutions=3", "sample_every=0")
    assert proc.returncode == 0, proc.stderr
    scored = run("eval", out, "--n", "16")
    assert scored.returncode == 0, scored.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["fd_fmnist"] > 0 and 0 <= metrics["ood_auroc_digits"] <= 1 and metrics["n_samples"] == 16


def test_a_run_that_runs_away_is_rolled_back_then_stopped_with_one_line(tmp_path):
    proc = run("train", "cdrl", "--preset", "tiny", "--out", tmp_path / "r", "--set", "runaway_ratio=0.001")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "roll-back 3/3" in proc.stdout and "runaway_ratio × the reach of the training pair" in proc.stderr
