"""A user's own files through the installed command: points and images round-trip through train → sample, bad files get errors that say what was found and what is accepted."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision.io import encode_png

from energyflows.data import make_synthetic
from energyflows.metrics import mmd
from energyflows.toy2d import get_dataset

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [str(Path(sys.executable).parent / "energyflows")]


def run(*args):
    return subprocess.run(COMMAND + [str(a) for a in args], cwd=ROOT, text=True, capture_output=True, timeout=600)


def user_moons(n: int = 1000) -> np.ndarray:
    "The two moons, stretched and moved far from the origin: a point cloud in a user's units."
    return get_dataset("moons").sample(n, seed=3).double().numpy() * [150.0, 40.0] + [2000.0, -700.0]


def write_pngs(folder: Path, images: torch.Tensor) -> Path:
    "Each uint8 image (C, H, W) as folder/NNN.png."
    folder.mkdir(parents=True)
    for i, image in enumerate(images):
        (folder / f"{i:03d}.png").write_bytes(encode_png(image).numpy().tobytes())
    return folder


@pytest.mark.parametrize("method, args", [
    ("coopflow2d", ["--iters", "400", "--batch-size", "128", "--langevin-steps", "10"]),
    ("fce2d", ["--n-iters", "300", "--flow-blocks", "4", "--flow-hidden", "32"]),
])
def test_point_cloud_round_trips(tmp_path, method, args):
    points = user_moons()
    np.save(tmp_path / "moons.npy", points)
    trained = run("train", method, "--data", tmp_path / "moons.npy", *args, "--out", tmp_path / "run")
    assert trained.returncode == 0, trained.stderr
    assert "loaded " + str(tmp_path / "moons.npy") + ": 1000 items, shape (1000, 2), float64" in trained.stdout
    summary = json.loads((tmp_path / "run" / "data.json").read_text())
    assert (summary["count"], summary["shape"], summary["training_points"], summary["held_out_points"]) == (1000, [1000, 2], 800, 200)
    assert (summary["min"], summary["max"]) == (points.min(), points.max())
    assert summary["x_range"] == [points[:, 0].min(), points[:, 0].max()]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["exact_density"] is False and "held-out points" in metrics["measured_against"]
    sampled = run("sample", tmp_path / "run", "--n", "2000", "--out", tmp_path / "samples.npy")
    assert sampled.returncode == 0, sampled.stderr
    samples = torch.from_numpy(np.load(tmp_path / "samples.npy"))
    assert samples.shape == (2000, 2) and samples.dtype == torch.float64
    reference = torch.from_numpy(user_moons(2000))  # fresh points of the same distribution, in the user's units
    shifted = reference + torch.tensor([0.2 * np.ptp(points[:, 0]), 0.0])
    bandwidth = metrics["mmd_bandwidth"]
    close, far = mmd(samples, reference, bandwidth), mmd(shifted, reference, bandwidth)
    assert close < far / 5, (close, far)


def test_png_folder_round_trips(tmp_path):
    images, _ = make_synthetic(32, 16)
    folder = write_pngs(tmp_path / "pngs", images)
    trained = run("train", "coopflow", "--preset", "tiny", "--data", folder, "--set", "n_iters=6", "sample_every=0",
                  "--out", tmp_path / "run")
    assert trained.returncode == 0, trained.stderr
    summary = json.loads((tmp_path / "run" / "data.json").read_text())
    assert (summary["count"], summary["shape"], summary["dtype"]) == (32, [32, 3, 16, 16], "uint8")
    assert (summary["min"], summary["max"]) == (0.0, float(images.max()))
    assert json.loads((tmp_path / "run" / "config.json").read_text())["dataset"] == str(folder)
    sampled = run("sample", tmp_path / "run", "--n", "8", "--out", tmp_path / "s.npz", "--png", tmp_path / "png",
                  "--grid", tmp_path / "grid.png")
    assert sampled.returncode == 0, sampled.stderr
    samples = np.load(tmp_path / "s.npz")["images"]
    assert samples.shape == (8, 3, 16, 16) and samples.dtype == np.float32
    assert 0 <= samples.min() and samples.max() <= 1 and samples.std() > 0
    assert len(list((tmp_path / "png").glob("sample_*.png"))) == 8 and (tmp_path / "grid.png").exists()


def test_npz_images_train(tmp_path):
    images, _ = make_synthetic(16, 16)
    np.savez(tmp_path / "shapes.npz", images=images.permute(0, 2, 3, 1).numpy() / 255.0)
    trained = run("train", "shortrun", "--preset", "tiny", "--data", tmp_path / "shapes.npz", "--set", "n_iters=4",
                  "batch_size=8", "--out", tmp_path / "run")
    assert trained.returncode == 0, trained.stderr
    summary = json.loads((tmp_path / "run" / "data.json").read_text())
    assert (summary["count"], summary["shape"], summary["dtype"], summary["training_shape"]) == (16, [16, 16, 16, 3], "float64", [16, 3, 16, 16])


def bad_inputs(tmp: Path) -> dict:
    "One bad file of each kind: (method, path) → the message it must get."
    rng = np.random.default_rng(0)
    np.save(tmp / "three.npy", rng.normal(size=(50, 3)))
    nan = rng.normal(size=(50, 2)); nan[4, 0] = np.inf
    np.save(tmp / "nan.npy", nan)
    (tmp / "text.csv").write_text("x,y\n1,2\n3,four\n")
    (tmp / "empty").mkdir()
    write_pngs(tmp / "broken", make_synthetic(3, 16)[0])
    (tmp / "broken" / "001.png").write_bytes(b"\x89PNG cut short")
    np.savez(tmp / "ragged.npz", images=np.array([np.zeros((8, 8)), np.zeros((9, 7))], dtype=object))
    np.savez(tmp / "nan.npz", np.full((4, 8, 8), np.nan))
    np.savez(tmp / "shape.npz", np.zeros((4, 8, 8, 5), np.uint8))
    return {
        ("coopflow2d", "three.npy"): "holds an array of shape (50, 3); accepted: shape (N, 2)",
        ("fce2d", "nan.npy"): "has NaN or Inf in 1 of 50 rows (first: row 4)",
        ("coopflow2d", "text.csv"): "cannot read",
        ("shortrun", "empty"): "holds no image files (found nothing); accepted: a folder of image files",
        ("shortrun", "broken"): "1 of 3 files in",
        ("shortrun", "ragged.npz"): "images of mixed sizes? accepted: one array (N, H, W) or (N, H, W, C) of equal-sized images",
        ("shortrun", "nan.npz"): "NaN or Inf in 4 of 4 images",
        ("shortrun", "shape.npz"): "holds an array of shape (4, 8, 8, 5); accepted: (N, H, W) or (N, H, W, C) with N >= 1 and C = 1 or 3",
    }


def test_each_bad_file_gets_its_error(tmp_path):
    for (method, name), message in bad_inputs(tmp_path).items():
        preset = [] if method.endswith("2d") else ["--preset", "tiny"]
        proc = run("train", method, *preset, "--data", tmp_path / name, "--out", tmp_path / "out")
        assert proc.returncode == 2, (name, proc.stdout, proc.stderr)
        assert message in proc.stderr, (name, proc.stderr)
        assert str(tmp_path / name) in proc.stderr  # it names the file
