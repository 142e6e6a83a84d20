"""The installed `energyflows` command, end to end: the demo, training, resume, and its errors."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from energyflows.toy2d import FAMILY

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [str(Path(sys.executable).parent / "energyflows")]
TINY = ["--batch-size", "64", "--langevin-steps", "5", "--flow-blocks", "2", "--flow-hidden", "16", "--ebm-hidden", "16"]


def run(*args):
    return subprocess.run(COMMAND + list(args), cwd=ROOT, text=True, capture_output=True, timeout=600)


def test_demo_writes_picture_and_metrics(tmp_path):
    proc = run("demo", "--quick", "--out", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics["flow"]) >= {"kl_samples", "kl_density", "tv", "mmd"}
    assert set(metrics["coopflow"]) >= {"kl_samples", "tv", "mmd"} and "kl_density" in metrics["ebm"]
    assert metrics["seconds"] > 0 and metrics["diverged_at"] is None
    assert (tmp_path / "run" / "coopflow.png").stat().st_size > 10_000
    assert str(tmp_path / "run" / "metrics.json") in proc.stdout  # it says where the results went


def test_train_is_resumable_after_an_interruption(tmp_path):
    out = tmp_path / "run"
    args = ["train", "coopflow2d", "--data", "8gaussians", "--iters", "300", "--checkpoint-every", "20", *TINY, "--out", str(out)]
    proc = subprocess.Popen(COMMAND + args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while not (out / "checkpoint.pt").exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)  # Ctrl-C after the first checkpoints
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and b"interrupted at iteration" in err and b"Traceback" not in err, err.decode()[-2000:]
    stopped_at = torch.load(out / "checkpoint.pt", weights_only=False)["iteration"]
    resumed = run("train", "coopflow2d", "--out", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    history = json.loads((out / "history.json").read_text())
    config = json.loads((out / "config.json").read_text())
    assert len(history["loss"]) == config["warmup_iters"] + 300, (stopped_at, len(history["loss"]))  # warm-up, then joint
    assert (config["data"], config["n_steps"]) == ("8gaussians", 5)  # the saved settings were used


@pytest.mark.parametrize("args, message", [
    (["train", "coopflow2d", "--out", "x", "--data", "swirl"], "or a .npy or .csv file of points"),
    (["train", "fce2d", "--out", "x", "--start", "mle"], "invalid choice: 'mle'"),
    (["train", "coopflow2d", "--out", "x", "--noise", "loud"], "invalid choice: 'loud'"),
    (["train", "coopflow2d", "--out", "x", "--langevin-steps", "0"], "`n_steps` must be a positive integer"),
    (["train", "coopflow2d", "--out", "x", "--step-size", "nan"], "`step_size` must be a finite number > 0"),
    (["train", "coopflow2d", "--out", "x", "--seed", "x"], "invalid int value: 'x'"),
    (["train", "coopflow2d"], "the following arguments are required: --out"),
    (["train", "gan"], "invalid choice: 'gan'"),
    ([], "required: COMMAND"),
])
def test_bad_arguments_say_what_is_allowed(args, message):
    proc = run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr, proc.stderr


def test_help_documents_every_option():
    text = run("train", "coopflow2d", "--help").stdout
    for option in ("--langevin-steps", "--noise", "--test-step-multiplier", "--pretrain-iters", "--warmup-iters", "--resume"):
        assert option in text
    assert "Langevin steps T" in text


def test_readme_is_generated_from_index():
    proc = subprocess.run([sys.executable, "tools/readme.py", "--check"], cwd=ROOT, text=True, capture_output=True)
    assert proc.returncode == 0, proc.stdout


def test_a_run_forced_to_run_away_is_rolled_back_and_ends_healthy(tmp_path):
    "A step far too large for the thin cross (and a fast EBM): the guard rolls back, says so, and keeps a healthy model."
    out = tmp_path / "run"
    proc = run("train", "coopflow2d", "--data", "family:thin_cross", "--iters", "300", "--pretrain-iters", "0", "--warmup-iters", "0",
               "--batch-size", "64", "--langevin-steps", "10", "--step-size", "0.3", "--ebm-lr", "0.01", "--checkpoint-every", "20",
               "--flow-blocks", "2", "--flow-hidden", "16", "--ebm-hidden", "32", "--score-samples", "256", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["rollbacks"] and all(e["restored"] < e["detected"] for e in metrics["rollbacks"])
    assert "ran away at iteration" in proc.stdout and "rolled back to the healthy state" in proc.stdout
    samples = run("sample", str(out), "--n", "2000", "--out", str(tmp_path / "s.npy"))
    assert samples.returncode == 0, samples.stderr
    points, cross = np.load(tmp_path / "s.npy"), FAMILY["thin_cross"].sample(20_000, seed=0).numpy()
    reach, data_reach = np.quantile(np.abs(points).max(1), 0.99), np.quantile(np.abs(cross).max(1), 0.999)
    assert points.shape == (2000, 2) and reach < 2 * data_reach, (reach, data_reach)  # the kept model's samples stay near the data
