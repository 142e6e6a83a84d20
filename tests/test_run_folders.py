"""Run folders never lose work (issue 17): each way a run folder was lost or broken, through the command line.

Most cases run `energyflows` in this process (`cli`); Ctrl-C and a kill during a checkpoint write run it as a
process of its own. Where nothing may be lost, every file of the folder is hashed before and after.
"""
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from energyflows import cli as cli_module
from energyflows.cli import main
from energyflows.core import RunFolderError
from energyflows.data import make_synthetic
from energyflows.train import load_checkpoint, train

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [str(Path(sys.executable).parent / "energyflows")]
COOP_TINY = ["--iters", "20", "--batch-size", "64", "--langevin-steps", "5", "--flow-blocks", "2", "--flow-hidden", "16",
             "--ebm-hidden", "16", "--checkpoint-every", "10", "--pretrain-iters", "50", "--warmup-iters", "0"]
FCE2D_TINY = ["--n-iters", "20", "--flow-blocks", "2", "--flow-hidden", "16", "--pretrain-iters", "10", "--eval-points", "200"]


def cli(*args) -> tuple[int, str, str]:
    "Run `energyflows ARGS` in this process: its exit status, stdout and stderr."
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as stop:
            code = stop.code
    return code, out.getvalue(), err.getvalue()


def refused(*args) -> str:
    "The one-line message with which `energyflows ARGS` stops (exit status 2, no traceback)."
    code, _, err = cli(*args)
    assert code == 2, err
    assert "Traceback" not in err, err
    line = err.strip().splitlines()[-1]
    assert re.match(r"energyflows( \w+)*: error: ", line), err
    return line


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    "Every file under `folder` (hidden ones too): relative path → (sha256, mode)."
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mode)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def copy(run: Path, tmp_path: Path) -> Path:
    "A copy of a trained run folder that a test may change."
    return Path(shutil.copytree(run, tmp_path / run.name))


@pytest.fixture(scope="module")
def image_run(tmp_path_factory) -> Path:
    "A finished tiny short-run EBM: 10 iterations, grids at 5 and at the end, a checkpoint at 10."
    out = tmp_path_factory.mktemp("image") / "shortrun"
    assert cli("train", "shortrun", "--out", out, "--set", "n_iters=10", "sample_every=5")[0] == 0
    return out


@pytest.fixture(scope="module")
def fce_image_run(tmp_path_factory) -> Path:
    "A finished tiny FCE run on images."
    out = tmp_path_factory.mktemp("fce") / "fce"
    assert cli("train", "fce", "--out", out, "--set", "n_iters=4", "sample_every=0")[0] == 0
    return out


@pytest.fixture(scope="module")
def coop_run(tmp_path_factory) -> Path:
    "A finished tiny 2-D CoopFlow run (20 iterations)."
    out = tmp_path_factory.mktemp("coop") / "coopflow2d"
    assert cli("train", "coopflow2d", "--data", "8gaussians", *COOP_TINY, "--out", out)[0] == 0
    return out


@pytest.fixture(scope="module")
def fce2d_run(tmp_path_factory) -> Path:
    "A finished tiny 2-D FCE run."
    out = tmp_path_factory.mktemp("fce2d") / "fce2d"
    assert cli("train", "fce2d", *FCE2D_TINY, "--out", out)[0] == 0
    return out


def save_images(path: Path, channels: int, n: int = 32) -> Path:
    "`n` synthetic 16×16 images as a user's .npz array (N, H, W) for one channel, (N, H, W, 3) for three."
    images = make_synthetic(n, 16, seed=1)[0].numpy()  # (N, 3, H, W) uint8
    images = images[:, 0] if channels == 1 else images.transpose(0, 2, 3, 1)
    np.savez(path, images=images)
    return path


# 1. A failed resume must leave the folder as it was, and a correct resume must still work afterwards.

def test_a_resume_with_other_data_is_refused_and_changes_nothing(image_run, tmp_path):
    run, gray = copy(image_run, tmp_path), save_images(tmp_path / "gray.npz", channels=1)
    before = snapshot(run)
    line = refused("train", "shortrun", "--out", run, "--resume", "--data", gray, "--set", "n_iters=20")
    assert f"dataset = '{gray}' (the run has 'synthetic')" in line
    assert snapshot(run) == before
    assert cli("train", "shortrun", "--out", run, "--resume", "--set", "n_iters=12")[0] == 0  # the folder still resumes


def test_a_resume_whose_data_changed_shape_is_refused_and_changes_nothing(tmp_path):
    data, run = save_images(tmp_path / "mine.npz", channels=3), tmp_path / "run"
    assert cli("train", "shortrun", "--out", run, "--data", data, "--set", "n_iters=4")[0] == 0
    save_images(data, channels=1)  # the user's file now holds gray images
    before = snapshot(run)
    line = refused("train", "shortrun", "--out", run, "--resume", "--set", "n_iters=8")
    assert f"{run / 'checkpoint.pt'} does not fit: images of shape (1, 16, 16) (the run has (3, 16, 16))" in line
    assert snapshot(run) == before


# 2. Training into a folder that holds a run is refused (2-D and image runs); --overwrite replaces the whole run.

@pytest.mark.parametrize("fixture, args", [
    ("image_run", ["train", "shortrun"]),
    ("coop_run", ["train", "coopflow2d", *COOP_TINY]),
    ("fce2d_run", ["train", "fce2d", *FCE2D_TINY]),
])
def test_training_into_a_run_is_refused(fixture, args, request):
    run = request.getfixturevalue(fixture)
    before = snapshot(run)
    line = refused(*args, "--out", run)
    assert f"--out {run} already holds a run (config.json, checkpoint.pt): continue it with --resume, train into a new --out, " \
           "or replace it with --overwrite" in line
    assert snapshot(run) == before


def test_overwrite_replaces_the_old_run_entirely(image_run, tmp_path):
    run = copy(image_run, tmp_path)
    (run / "my-notes.txt").write_text("not the run's")
    assert len(list((run / "tb").iterdir())) == 1 and (run / "samples" / "iter_0000005.png").exists()
    assert cli("train", "shortrun", "--out", run, "--overwrite", "--set", "n_iters=4", "sample_every=0")[0] == 0
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["final.png"]  # no grid of the old run
    assert len(list((run / "tb").iterdir())) == 1 and (run / "my-notes.txt").exists()
    assert json.loads((run / "metrics.json").read_text())["iterations"] == 4
    assert "started shortrun" in (run / "run.log").read_text() and "finished at iteration 10" not in (run / "run.log").read_text()


# 3. A resume keeps metrics.json: a finished run is left byte for byte; more iterations merge into it.

def with_eval_score(run: Path) -> Path:
    "The run with a score in its metrics.json, as `energyflows eval` adds one."
    metrics = json.loads((run / "metrics.json").read_text())
    (run / "metrics.json").write_text(json.dumps({**metrics, "fd_fmnist": 123.0}))
    return run


def test_resume_of_a_finished_run_changes_nothing(image_run, tmp_path):
    run = with_eval_score(copy(image_run, tmp_path))
    before = snapshot(run)
    code, out, err = cli("train", "shortrun", "--out", run, "--resume")
    assert code == 0, err
    assert "already reached n_iters = 10; nothing to train" in out
    assert snapshot(run) == before


def test_resume_with_more_iterations_merges_the_metrics(image_run, tmp_path):
    run = with_eval_score(copy(image_run, tmp_path))
    assert cli("train", "shortrun", "--out", run, "--resume", "--set", "n_iters=14")[0] == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert (metrics["iterations"], metrics["fd_fmnist"]) == (14, 123.0)
    assert metrics["images_per_second"] > 0 and "loss_ebm" in metrics["final"]
    assert json.loads((run / "config.json").read_text())["n_iters"] == 14  # recorded
    assert "resumed at iteration 10 with n_iters 10 → 14" in (run / "run.log").read_text()


# 5. A resume checks what the user typed: another method, or a setting that contradicts the run, is refused.

@pytest.mark.parametrize("fixture, args, differences", [
    ("image_run", ["train", "shortrun", "--set", "width=16", "n_steps=3"], ["width = 16 (the run has 8)", "n_steps = 3 (the run has 5)"]),
    ("coop_run", ["train", "coopflow2d", "--langevin-steps", "7", "--flow-hidden", "32"],
     ["n_steps = 7 (the run has 5)", "flow_hidden = 32 (the run has 16)"]),
])
def test_resume_refuses_typed_settings_that_contradict_the_run(fixture, args, differences, request):
    run = request.getfixturevalue(fixture)
    before = snapshot(run)
    line = refused(*args, "--out", run, "--resume")
    assert all(difference in line for difference in differences), line
    assert snapshot(run) == before


@pytest.mark.parametrize("fixture, method, other", [("fce_image_run", "coopflow", "fce"), ("fce2d_run", "coopflow2d", "fce2d")])
def test_resume_refuses_another_methods_run(fixture, method, other, request):
    run = request.getfixturevalue(fixture)
    before = snapshot(run)
    line = refused("train", method, "--out", run, "--resume")
    assert f"{run} holds a {other} run, not {method}: continue it with `energyflows train {other} --out {run} --resume`" in line
    assert snapshot(run) == before


def test_resume_refuses_fewer_iterations_than_were_done(image_run):
    before = snapshot(image_run)
    line = refused("train", "shortrun", "--out", image_run, "--resume", "--set", "n_iters=5")
    assert "`n_iters` = 5 is below the 10 iterations the run" in line
    assert snapshot(image_run) == before


def test_a_preset_on_resume_must_agree_with_the_run(image_run):
    before = snapshot(image_run)
    assert "batch_size = 32 (the run has 16)" in refused("train", "shortrun", "--out", image_run, "--resume", "--preset", "offline")
    assert snapshot(image_run) == before


# 6. An empty --out is refused, and nothing is written into the current directory.

@pytest.mark.parametrize("args", [["train", "shortrun"], ["train", "coopflow2d"], ["train", "fce2d"], ["demo", "--quick"]])
def test_an_empty_out_is_refused(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert "argument --out: must name a folder for the run, got an empty string" in refused(*args, "--out", "")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RunFolderError, match="--out must name a folder"):
        train("shortrun", "")


def test_demo_replaces_only_a_demo(coop_run, tmp_path):
    run = copy(coop_run, tmp_path)
    before = snapshot(run)
    assert "already holds a run" in refused("demo", "--quick", "--out", run)  # a user's 2-D run is not a demo
    assert snapshot(run) == before
    for _ in range(2):  # `make demo` twice: the second replaces the first
        code, _, err = cli("demo", "--quick", "--out", tmp_path / "demo")
        assert code == 0, err
    assert json.loads((tmp_path / "demo" / "metrics.json").read_text())["iterations"] == 60


# 7. Every user error ends in one line that names the option or file and what it takes.

@pytest.mark.parametrize("method", ["shortrun", "coopflow2d", "fce2d"])
def test_an_out_that_is_a_file_is_refused(method, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    assert f"--out {tmp_path / 'notes.txt'} is a file, not a folder" in refused("train", method, "--out", tmp_path / "notes.txt")
    assert (tmp_path / "notes.txt").read_text() == "mine"


def writable(folder: Path) -> bool:
    "Whether this process can create a file in `folder` (root can, whatever its mode says)."
    try:
        (folder / ".probe").write_text("")
    except OSError:
        return False
    (folder / ".probe").unlink()
    return True


def test_a_read_only_out_is_refused(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if writable(folder):
            pytest.skip("this process writes into read-only folders (root)")
        assert f"cannot write the run folder {folder} (Permission denied)" in refused("train", "shortrun", "--out", folder)
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(not Path("/sys").is_dir() or writable(Path("/sys")), reason="needs a folder nobody may write (Linux /sys)")
def test_an_out_the_system_refuses_is_refused():
    for out in (Path("/sys"), Path("/sys/energyflows-run")):  # a folder that is not writable, and one that cannot be made
        assert f"cannot write the run folder {out} (" in refused("train", "shortrun", "--out", out, "--set", "n_iters=2")


def test_output_paths_that_cannot_be_written_say_what_they_take(image_run, tmp_path):
    (tmp_path / "a-file").write_text("")
    (tmp_path / "a-folder.npz").mkdir()
    before = snapshot(image_run)
    assert f"--out: {tmp_path} is a folder; bench writes its rows as JSON, so give a file ending in .json" in refused(
        "bench", "shortrun", "--out", tmp_path)
    assert f"--png: {tmp_path / 'a-file'} is a file; it takes a folder for the PNG files" in refused(
        "sample", image_run, "--png", tmp_path / "a-file")
    assert f"--grid: {tmp_path} is a folder; the grid is a picture, so give a file ending in .png" in refused(
        "sample", image_run, "--grid", tmp_path)
    assert f"--out: {tmp_path / 'a-folder.npz'} is a folder" in refused("sample", image_run, "--out", tmp_path / "a-folder.npz")
    assert snapshot(image_run) == before and sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "a-folder.npz"]


@pytest.mark.parametrize("args, message", [
    (["train", "coopflow2d", "--out", "x", "--batch-size", "1e8"], "argument --batch-size: invalid int value: '1e8'"),
    (["train", "shortrun", "--out", "x", "--set", "batch_size=1e8"], "`batch_size` (100000000) is larger than the training set"),
    (["train", "shortrun", "--out", "x", "--set", "image_size=100000"], "`image_size` must be at most 1024 pixels, got 100000"),
    (["sample", "RUN", "--n", "1e8"], "argument --n: invalid int value: '1e8'"),
    (["sample", "RUN", "--n", str(10**9)], "`n` = 1000000000 images of shape (3, 16, 16) need 2,861 GiB, more than half of this machine's memory"),
    (["sample", "RUN", "--n", "0"], "`n` must be a positive integer, got 0"),
])
def test_sizes_that_cannot_work_are_refused(args, message, image_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert message in refused(*[image_run if a == "RUN" else a for a in args])
    assert list(tmp_path.iterdir()) == []


def test_a_broken_config_json_is_named(image_run, coop_run, tmp_path):
    for run, method in ((copy(image_run, tmp_path), "shortrun"), (copy(coop_run, tmp_path), "coopflow2d")):
        (run / "config.json").write_text('{"method": "' + method + '", "n_steps": 5')  # cut short, as by a full disk
        before = snapshot(run)
        for args in (["train", method, "--out", run, "--resume"], ["sample", run, "--out", tmp_path / "s.npy"]):
            assert f"{run / 'config.json'} is damaged (" in refused(*args)
        assert snapshot(run) == before


def test_a_foreign_checkpoint_is_named(image_run, coop_run, tmp_path):
    run = copy(image_run, tmp_path)
    shutil.copy(coop_run / "checkpoint.pt", run / "checkpoint.pt")  # a 2-D run's checkpoint in an image run's folder
    before = snapshot(run)
    for args in (["train", "shortrun", "--out", run, "--resume"], ["sample", run], ["eval", run, "--n", "4"]):
        assert f"{run / 'checkpoint.pt'} is not a checkpoint of the energyflows training loop" in refused(*args)
    assert snapshot(run) == before


@pytest.mark.parametrize("error", [torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
                                   RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 5120000000000 bytes"),
                                   MemoryError()])
def test_out_of_memory_is_a_message(error, monkeypatch):
    def run_out_of_memory(*args, **kwargs):
        raise error
    monkeypatch.setattr(cli_module.loop, "train", run_out_of_memory)
    assert "error: out of memory (" in refused("train", "shortrun", "--out", "x")


@pytest.mark.parametrize("bug", [RuntimeError("a bug"), ConnectionResetError(104, "Connection reset by peer")])
def test_a_bug_still_shows_its_traceback(bug, monkeypatch):
    def broken(*args, **kwargs):
        raise bug
    monkeypatch.setattr(cli_module.loop, "train", broken)
    with pytest.raises(type(bug)):
        main(["train", "shortrun", "--out", "x"])


def test_ctrl_c_saves_the_iteration_and_says_how_to_continue(tmp_path):
    out = tmp_path / "run"
    args = ["train", "shortrun", "--out", str(out), "--set", "n_iters=100000", "checkpoint_every=100000", "log_every=1", "sample_every=0"]
    proc = subprocess.Popen(COMMAND + args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while proc.poll() is None and time.time() < deadline and len(rows(out)) < 3:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    stopped_at = load_checkpoint(out / "checkpoint.pt")["iteration"]
    assert stopped_at >= 3 and "Traceback" not in err
    assert f"interrupted at iteration {stopped_at}; continue with --resume: energyflows train shortrun --out {out} --resume" in err
    assert f"interrupted at iteration {stopped_at}" in (out / "run.log").read_text()
    code, _, err = cli("train", "shortrun", "--out", out, "--resume", "--set", f"n_iters={stopped_at + 2}")
    assert code == 0, err
    assert json.loads((out / "metrics.json").read_text())["iterations"] == stopped_at + 2


def rows(out: Path) -> list[str]:
    "The data rows of a run's log.csv (none before it exists)."
    return (out / "log.csv").read_text().splitlines()[1:] if (out / "log.csv").exists() else []


# 8. Files keep the user's umask.

@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_run_files_follow_the_umask(umask, mode, tmp_path):
    previous = os.umask(umask)
    try:
        assert cli("train", "shortrun", "--out", tmp_path / "run", "--set", "n_iters=2", "sample_every=0")[0] == 0
    finally:
        os.umask(previous)
    modes = {name: m & 0o777 for name, (_, m) in snapshot(tmp_path / "run").items()}
    assert set(modes) >= {"config.json", "checkpoint.pt", "metrics.json", "log.csv", "run.log", "samples/final.png"}
    assert set(modes.values()) == {mode}, modes


# A kill (or a failure) during the checkpoint write leaves the previous checkpoint loadable.

KILLED_DURING_THE_SECOND_CHECKPOINT = """
import io, sys, time, torch
from energyflows.train import train
real, calls = torch.save, []
def half_then_hang(state, path):
    "Write half of the checkpoint's bytes, then hang (the test kills the process here)."
    calls.append(path)
    if len(calls) < 2:
        return real(state, path)
    buffer = io.BytesIO(); real(state, buffer)
    with open(path, "wb") as f:
        f.write(buffer.getvalue()[: len(buffer.getvalue()) // 2]); f.flush()
    print("half written", flush=True); time.sleep(600)
torch.save = half_then_hang
train("shortrun", sys.argv[1], overrides={"n_iters": 20, "checkpoint_every": 5, "sample_every": 0})
"""


def test_a_kill_during_the_checkpoint_write_keeps_the_previous_checkpoint(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_DURING_THE_SECOND_CHECKPOINT, str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout.readline().strip() == "half written"
    proc.kill()
    proc.wait(timeout=60)
    assert load_checkpoint(out / "checkpoint.pt")["iteration"] == 0  # the first checkpoint, whole
    assert list(out.glob(".checkpoint.pt.*.tmp")), "the half-written file should be a temporary one"
    assert cli("train", "shortrun", "--out", out, "--resume")[0] == 0
    assert load_checkpoint(out / "checkpoint.pt")["iteration"] == 20 and not list(out.glob(".*.tmp"))


def test_a_failed_checkpoint_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    out, real, calls = tmp_path / "run", torch.save, []
    def full_disk(state, path):
        calls.append(path)
        if len(calls) >= 2:
            raise OSError(28, "No space left on device", str(path))
        real(state, path)
    monkeypatch.setattr(torch, "save", full_disk)
    line = refused("train", "shortrun", "--out", out, "--set", "n_iters=20", "checkpoint_every=5", "sample_every=0")
    assert "No space left on device" in line
    assert load_checkpoint(out / "checkpoint.pt")["iteration"] == 0 and not list(out.glob(".*.tmp"))


# Cases that need the 2-D trainers to use `RunFolder` and `read_checkpoint` (chapter 10, the lead's part of issue 17).

def test_2d_resume_applies_and_records_more_iterations(coop_run, tmp_path):
    run = copy(coop_run, tmp_path)
    assert cli("train", "coopflow2d", "--out", run, "--resume", "--iters", "30")[0] == 0
    assert len(json.loads((run / "history.json").read_text())["loss"]) == 30
    assert json.loads((run / "config.json").read_text())["n_iters"] == 30
    assert "resumed at iteration 20 with n_iters 20 → 30" in (run / "run.log").read_text()


def test_2d_resume_refuses_fewer_iterations_than_were_done(coop_run):
    before = snapshot(coop_run)
    assert "below the 20 iterations" in refused("train", "coopflow2d", "--out", coop_run, "--resume", "--iters", "10")
    assert snapshot(coop_run) == before


def test_2d_bad_adam_betas_are_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert "`ebm_betas` must lie in [0, 1), got 1.5" in refused("train", "coopflow2d", "--out", "x", "--ebm-betas", "1.5", "2")
    assert list(tmp_path.iterdir()) == []


def test_2d_truncated_checkpoint_is_named(coop_run, tmp_path):
    run = copy(coop_run, tmp_path)
    (run / "checkpoint.pt").write_bytes((run / "checkpoint.pt").read_bytes()[:1000])
    before = snapshot(run)
    for args in (["train", "coopflow2d", "--out", run, "--resume"], ["sample", run, "--out", tmp_path / "s.npy"]):
        assert f"{run / 'checkpoint.pt'} is damaged" in refused(*args)
    assert snapshot(run) == before


def test_2d_samples_come_back_in_the_units_of_the_training_data(tmp_path):
    points = np.random.default_rng(0).normal([50.0, -20.0], [5.0, 1.0], (300, 2))
    np.save(tmp_path / "mine.npy", points)
    assert cli("train", "coopflow2d", "--data", tmp_path / "mine.npy", *COOP_TINY, "--out", tmp_path / "run")[0] == 0
    assert cli("sample", tmp_path / "run", "--n", "50", "--seed", "1", "--out", tmp_path / "a.npy")[0] == 0
    np.save(tmp_path / "mine.npy", points * 1000)  # the user's file changes: the run keeps its own centre and scale
    assert cli("sample", tmp_path / "run", "--n", "50", "--seed", "1", "--out", tmp_path / "b.npy")[0] == 0
    (tmp_path / "mine.npy").unlink()  # and it goes
    assert cli("sample", tmp_path / "run", "--n", "50", "--seed", "1", "--out", tmp_path / "c.npy")[0] == 0
    a, b, c = (np.load(tmp_path / f"{name}.npy") for name in "abc")
    assert np.array_equal(a, b) and np.array_equal(a, c) and 30 < a[:, 0].mean() < 70


def test_2d_ctrl_c_saves_the_iteration_it_stopped_at(tmp_path):
    out = tmp_path / "run"
    args = ["train", "coopflow2d", "--data", "8gaussians", *COOP_TINY, "--iters", "100000", "--checkpoint-every", "100000", "--out", str(out)]
    proc = subprocess.Popen(COMMAND + args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not (out / "checkpoint.pt").exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    stopped_at = torch.load(out / "checkpoint.pt", weights_only=False)["iteration"]
    assert stopped_at > 0 and "Traceback" not in err
    assert f"interrupted at iteration {stopped_at}; continue with --resume: energyflows train coopflow2d --out {out} --resume" in err
