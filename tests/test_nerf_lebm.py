"""NeRF-LEBM (chapter 26) from the command line: a tiny run, its samples, and a resume that matches an uninterrupted run."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [str(Path(sys.executable).parent / "energyflows")]


def run(*args, timeout=600):
    return subprocess.run(COMMAND + [str(a) for a in args], cwd=ROOT, text=True, capture_output=True, timeout=timeout,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def models(out: Path) -> dict:
    return torch.load(out / "checkpoint.pt", weights_only=False)["models"]


def test_tiny_run_from_the_command_line_trains_and_samples(tmp_path):
    out = tmp_path / "run"
    proc = run("train", "nerf-lebm", "--preset", "tiny", "--out", out)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["method"] == "nerf-lebm" and metrics["iterations"] == 6 and metrics["bad_iterations"] == 0
    assert set(models(out)) == {"generator", "prior"}
    rows = list(csv.DictReader((out / "log.csv").open()))
    for column in ("mse_rays", "posterior_max_step", "prior_max_step", "f_gap", "revision_mse", "max_step"):
        assert all(np.isfinite(float(row[column])) for row in rows), column
    sampled = run("sample", out, "--n", "3", "--out", out / "s.npz")
    assert sampled.returncode == 0, sampled.stderr
    images = np.load(out / "s.npz")["images"]
    assert images.shape == (3, 3, 16, 16) and 0 <= images.min() and images.max() <= 1
    spun = run("sample", out, "--n", "2", "--views", "4", "--out", out / "t.npz", "--png", out / "png", "--grid", out / "grid.png")
    assert spun.returncode == 0, spun.stderr
    turntables = np.load(out / "t.npz")["images"]
    assert turntables.shape == (2, 4, 3, 16, 16) and (out / "grid.png").exists()
    assert len(list((out / "png").glob("sample_*_view_*.png"))) == 8
    assert np.abs(turntables[:, 0] - turntables[:, 2]).max() > 1e-3  # the views differ: the camera went round
    scored = run("eval", out, "--n", "16")
    assert scored.returncode == 0, scored.stderr
    scores = json.loads((out / "metrics.json").read_text())
    assert 0 < scores["psnr"] < 60 and scores["fd_factor"] >= 0 and scores["kl_body"] >= 0 and scores["n_samples"] == 16


@pytest.mark.parametrize("settings, nets", [
    ([], {"generator", "prior"}),
    (["persistent=true", "prior=gaussian", "posterior_update=joint"], {"generator", "chains"}),  # the chains resume too
    (["inference=amortized", "test_infer_steps=0"], {"generator", "prior", "encoder"}),  # Algorithm 2
])
def test_resume_matches_an_uninterrupted_run(tmp_path, settings, nets):
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert run("train", "nerf-lebm", "--preset", "tiny", "--out", whole, "--set", "n_iters=8", *settings).returncode == 0
    first = run("train", "nerf-lebm", "--preset", "tiny", "--out", split, "--set", "n_iters=4", *settings)
    assert first.returncode == 0, first.stderr
    resumed = run("train", "nerf-lebm", "--out", split, "--resume", "--set", "n_iters=8")
    assert resumed.returncode == 0, resumed.stderr
    a, b = models(whole), models(split)
    assert set(a) == set(b) == nets
    for net in a:
        for key in a[net]:
            assert torch.equal(a[net][key], b[net][key]), (net, key)
    rows = lambda p: [r["iteration"] for r in csv.DictReader((p / "log.csv").open())]
    assert rows(whole) == rows(split)


@pytest.mark.parametrize("args, message", [
    (["--set", "prior=flow"], "`prior` must be one of 'ebm', 'gaussian'"),
    (["--set", "near=9", "far=8"], "`far` must be larger than `near`"),
    (["--set", "n_rays=0"], "`n_rays` must be a positive integer"),
    (["--set", "flip=true"], "`flip` must be false"),
])
def test_bad_settings_name_the_argument(tmp_path, args, message):
    proc = run("train", "nerf-lebm", "--preset", "tiny", "--out", tmp_path / "x", *args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


@pytest.mark.parametrize("settings", [[], ["inference=amortized"]])
def test_two_processes_train(tmp_path, settings):
    # the generator's training forward goes through DDP (its `forward` renders the rays), so gradients are averaged
    launcher = [str(Path(sys.executable).parent / "torchrun"), "--standalone", "--nproc_per_node", "2", "--no-python", COMMAND[0]]
    proc = subprocess.run(launcher + ["train", "nerf-lebm", "--preset", "tiny", "--out", str(tmp_path / "two"), "--set",
                                      "sample_every=0", *settings],
                          cwd=ROOT, text=True, capture_output=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert metrics["processes"] == 2 and metrics["iterations"] == 6 and metrics["bad_iterations"] == 0


def test_bench_against_the_plain_reference(tmp_path):
    proc = run("bench", "nerf-lebm", "--preset", "tiny", "--repeats", "1", "--out", tmp_path / "bench.json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads((tmp_path / "bench.json").read_text())
    assert [r["setting"] for r in rows] == ["reference", "project fp32"]
    assert all(np.isfinite(r[k]) and r[k] > 0 for r in rows for k in ("langevin_step", "train_iteration", "sampling"))
    refused = run("bench", "nerf-lebm", "--preset", "tiny", "--set", "persistent=true")
    assert refused.returncode == 2 and "persistent=false" in refused.stderr
