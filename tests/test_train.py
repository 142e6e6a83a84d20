"""The image training loop from the outside: many processes, a killed run, the guard, damaged files, bad input."""
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COMMAND = [str(BIN / "energyflows")]


def run(*args, timeout=600):
    return subprocess.run(COMMAND + [str(a) for a in args], cwd=ROOT, text=True, capture_output=True, timeout=timeout)


def weights(out: Path) -> dict:
    return torch.load(out / "checkpoint.pt", weights_only=False)["models"]["ebm"]


def test_two_processes_equal_one_with_the_same_global_batch(tmp_path):
    # Langevin noise is per process; every other random number is drawn per image, so without it the runs agree
    settings = ["--set", "noise_scale=0", "n_iters=8", "checkpoint_every=8", "sample_every=0", "batch_size=16", "flip=true"]
    single = run("train", "shortrun", "--preset", "tiny", "--out", tmp_path / "one", *settings)
    assert single.returncode == 0, single.stderr
    launcher = [str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2", "--no-python", COMMAND[0]]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    double = subprocess.run(launcher + ["train", "shortrun", "--preset", "tiny", "--out", str(tmp_path / "two"), *settings],
                            cwd=ROOT, text=True, capture_output=True, timeout=600, env=env)
    assert double.returncode == 0, double.stderr[-3000:]
    one, two = weights(tmp_path / "one"), weights(tmp_path / "two")
    for key in one:
        assert torch.allclose(one[key], two[key], atol=2e-5, rtol=1e-4), (key, (one[key] - two[key]).abs().max())
    metrics = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert metrics["processes"] == 2 and metrics["iterations"] == 8


def test_two_processes_differ_from_one_with_half_the_batch(tmp_path):
    # the comparison above can fail: the same runs with a different global batch do not agree
    settings = ["--set", "noise_scale=0", "n_iters=4", "checkpoint_every=4", "sample_every=0"]
    a = run("train", "shortrun", "--preset", "tiny", "--out", tmp_path / "a", *settings, "batch_size=16")
    b = run("train", "shortrun", "--preset", "tiny", "--out", tmp_path / "b", *settings, "batch_size=8")
    assert a.returncode == 0 and b.returncode == 0
    wa, wb = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert max((wa[k] - wb[k]).abs().max() for k in wa) > 1e-4


def test_killed_run_resumes_exactly(tmp_path):
    settings = ["--set", "n_iters=300", "checkpoint_every=10", "sample_every=100", "log_every=10"]
    whole = run("train", "shortrun", "--preset", "tiny", "--out", tmp_path / "whole", *settings)
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "killed"
    proc = subprocess.Popen(COMMAND + ["train", "shortrun", "--preset", "tiny", "--out", str(out), *settings],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, stopped_at = time.time() + 300, 0
    while proc.poll() is None and time.time() < deadline:
        if (out / "checkpoint.pt").exists():
            try:
                stopped_at = torch.load(out / "checkpoint.pt", weights_only=False)["iteration"]
            except Exception:
                pass  # never happens with atomic writes; the assertion below would show it
            if stopped_at >= 50:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert 50 <= stopped_at < 300, f"the run was not killed in the middle (checkpoint at {stopped_at})"
    stopped_at = torch.load(out / "checkpoint.pt", weights_only=False)["iteration"]  # the file is intact after the kill
    resumed = run("train", "shortrun", "--out", out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    a, b = weights(tmp_path / "whole"), weights(out)
    assert all(torch.equal(a[k], b[k]) for k in a), f"resumed from iteration {stopped_at}, weights differ"
    rows = lambda p: [r["iteration"] for r in csv.DictReader((p / "log.csv").open())]
    assert rows(out) == rows(tmp_path / "whole")
    assert not list(out.glob(".*.tmp")), "a temporary checkpoint file was left behind"


def test_damaged_checkpoint_names_the_file(tmp_path):
    out = tmp_path / "run"
    assert run("train", "shortrun", "--preset", "tiny", "--out", out, "--set", "n_iters=4").returncode == 0
    (out / "checkpoint.pt").write_bytes((out / "checkpoint.pt").read_bytes()[:1000])  # truncated, as by a full disk
    for args in (["train", "shortrun", "--out", out, "--resume"], ["sample", out], ["eval", out, "--n", "4"]):
        proc = run(*args)
        assert proc.returncode == 2 and f"{out / 'checkpoint.pt'} is damaged" in proc.stderr, proc.stderr


@pytest.mark.parametrize("args, message", [
    (["train", "shortrun", "--out", "x", "--preset", "huge"], "`preset` must be one of 'paper', 'offline', 'tiny'"),
    (["train", "shortrun", "--out", "x", "--set", "dataset=imagenet"], "`dataset` must be one of"),
    (["train", "shortrun", "--out", "x", "--set", "langevin=3"], "unknown setting 'langevin' for shortrun; the settings are:"),
    (["train", "shortrun", "--out", "x", "--set", "n_steps"], "--set takes key=value"),
    (["train", "shortrun", "--out", "x", "--set", "flip=maybe"], "`flip` must be true or false"),
    (["train", "shortrun", "--out", "x", "--set", "batch_size=1000"], "larger than the training set"),
    (["train", "shortrun", "--out", "x", "--set", "device=tpu"], "`device` must be 'auto', 'cpu'"),
    (["train", "shortrun", "--out", "x", "--set", "ema=1"], "`ema` must lie in [0, 1)"),
    (["bench", "gan"], "invalid choice: 'gan'"),
    (["eval", "nowhere"], "no checkpoint at nowhere/checkpoint.pt"),
])
def test_bad_input_says_what_is_allowed(args, message):
    proc = run(*args)
    assert proc.returncode == 2, proc.stdout
    assert message in proc.stderr, proc.stderr


def test_bench_prints_ratios_against_the_reference(tmp_path):
    proc = run("bench", "shortrun", "--repeats", "1", "--out", tmp_path / "bench.json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads((tmp_path / "bench.json").read_text())
    assert [r["setting"] for r in rows] == ["reference", "project fp32"] and rows[0]["train_iteration_ratio"] == 1.0
    assert "(1.00×)" in proc.stdout


def test_coopflow_on_images_trains_and_samples_from_the_command_line(tmp_path):
    out = tmp_path / "coop"
    proc = run("train", "coopflow", "--preset", "tiny", "--out", out)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["method"] == "coopflow" and metrics["iterations"] == 12 and metrics["bad_iterations"] == 0
    assert set(torch.load(out / "checkpoint.pt", weights_only=False)["models"]) == {"ebm", "flow", "dequantizer"}
    assert sampled_images(out).shape == (4, 3, 16, 16)
    assert "n_steps = 30: Langevin steps T that revise the proposals" in run("train", "coopflow", "--help").stdout


def torchrun(*args, nproc=2):
    launcher = [str(BIN / "torchrun"), "--standalone", "--nproc_per_node", str(nproc), "--no-python", COMMAND[0]]
    return subprocess.run(launcher + [str(a) for a in args], cwd=ROOT, text=True, capture_output=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def one_and_two_processes(tmp_path, method: str, settings: list[str], nets: tuple[str, ...]) -> None:
    "Train `method` (tiny) with `settings` in one process and in two; the networks `nets` must end up equal."
    single = run("train", method, "--preset", "tiny", "--out", tmp_path / "one", *settings)
    assert single.returncode == 0, single.stderr
    double = torchrun("train", method, "--preset", "tiny", "--out", tmp_path / "two", *settings)
    assert double.returncode == 0, double.stderr[-3000:]
    one, two = (torch.load(tmp_path / p / "checkpoint.pt", weights_only=False)["models"] for p in ("one", "two"))
    for net in nets:
        for key in one[net]:
            assert torch.allclose(one[net][key].float(), two[net][key].float(), atol=2e-5, rtol=1e-4), (net, key)


def sampled_images(run_dir: Path, n: int = 4) -> np.ndarray:
    "`energyflows sample` of a run: its images (N, C, H, W) in [0, 1]."
    sampled = run("sample", run_dir, "--n", str(n), "--out", run_dir / "s.npz")
    assert sampled.returncode == 0, sampled.stderr
    images = np.load(run_dir / "s.npz")["images"]
    assert 0 <= images.min() and images.max() <= 1
    return images


def test_coopflow_phases_under_two_processes_match_one(tmp_path):
    # EBM warm-up then joint CoopFlow: DDP must step only the networks with gradients and agree with one process
    settings = ["--set", "flow=glow", "pretrain_iters=0", "ebm_warmup_iters=2", "n_iters=5", "checkpoint_every=5",
                "sample_every=0", "batch_size=8"]
    one_and_two_processes(tmp_path, "coopflow", settings, ("ebm", "flow"))


def test_coopflow_pretraining_with_flowpp_under_two_processes(tmp_path):
    # Flow++ with its dequantizer as a network of its own: the pretraining, warm-up and joint phases under DDP
    proc = torchrun("train", "coopflow", "--preset", "tiny", "--out", tmp_path / "two", "--set", "n_iters=6", "sample_every=0")
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert metrics["processes"] == 2 and metrics["iterations"] == 6 and metrics["bad_iterations"] == 0


def test_fce_turns_under_two_processes_match_one(tmp_path):
    # flow pretraining, then FCE's turns (threshold 0.7 gives both players turns in tiny): the accuracy is averaged
    # over the processes, so both train the same player; then `sample` draws from the trained flow
    settings = ["--set", "n_iters=10", "checkpoint_every=10", "sample_every=0", "batch_size=8", "log_every=1", "threshold=0.7"]
    one_and_two_processes(tmp_path, "fce", settings, ("ebm", "flow"))
    logs = [list(csv.DictReader((tmp_path / p / "log.csv").open())) for p in ("one", "two")]
    assert [r["ebm_turn"] for r in logs[0]] == [r["ebm_turn"] for r in logs[1]]
    assert {r["ebm_turn"] for r in logs[0] if r["ebm_turn"]} == {"0.0", "1.0"}, "both players should get turns"
    assert sampled_images(tmp_path / "one").shape == (4, 3, 16, 16)


def test_lfbm_under_two_processes_matches_one(tmp_path):
    # posterior inference without noise (infer_noise=0) draws every random number per image, so one process and two
    # agree: the chains' starts, each image's fixed salt-and-pepper mask (sliced by rank) and the flow prior's loss
    settings = ["--set", "n_iters=6", "checkpoint_every=6", "sample_every=0", "batch_size=8", "infer_noise=0",
                "corruption=salt-pepper"]
    one_and_two_processes(tmp_path, "lfbm", settings, ("generator", "prior"))
    assert sampled_images(tmp_path / "one").shape == (4, 3, 16, 16)


@pytest.mark.parametrize("method, settings, figures", [
    ("shortrun", {}, {"revision_mse", "f_gap", "max_step"}),
    ("coopflow", {"n_iters": 6}, {"revision_mse", "f_gap", "max_step"}),  # from the flow's pretraining on: the EBM is not ready yet
    ("lfbm", {}, {"revision_mse", "max_step"}),  # posterior chains; no data-space EBM, so no f gap
    ("fce", {}, set()),  # no Langevin
])
def test_every_langevin_method_logs_its_health(tmp_path, method, settings, figures):
    # the Langevin health figures of chapter 21 in every row of log.csv and in metrics.json, finite
    from energyflows.train import train
    metrics = train(method, tmp_path / method, preset="tiny", overrides=settings, progress=False)
    rows = list(csv.DictReader((tmp_path / method / "log.csv").open()))
    assert figures <= set(rows[0]) and not ({"revision_mse", "f_gap", "max_step"} - figures) & set(rows[0])
    assert all(np.isfinite(float(row[k])) for row in rows for k in figures)
    assert set(metrics.get("health", {})) == figures


def test_health_figures_change_nothing_of_a_coopflow_run(tmp_path):
    # the figures use generators of their own: with and without them the networks end bit for bit equal
    from energyflows.train import train
    for name, batch in (("with", 16), ("without", 0)):
        train("coopflow", tmp_path / name, preset="tiny", overrides={"health_batch": batch}, progress=False)
    a, b = (torch.load(tmp_path / p / "checkpoint.pt", weights_only=False)["models"] for p in ("with", "without"))
    assert all(torch.equal(a[net][k], b[net][k]) for net in a for k in a[net])
