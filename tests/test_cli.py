"""The installed `energyflows` command, end to end, and its errors."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [str(Path(sys.executable).parent / "energyflows")]


def run(*args, cwd=ROOT):
    return subprocess.run(COMMAND + list(args), cwd=cwd, text=True, capture_output=True, timeout=300)


def test_demo_writes_picture_and_metrics(tmp_path):
    proc = run("demo", "--quick", "--out", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["final"]["kl_samples"] < metrics["initial"]["kl_samples"] / 3
    assert (tmp_path / "run" / "demo.png").stat().st_size > 10_000
    assert str(tmp_path / "run" / "metrics.json") in proc.stdout  # it says where the results went


@pytest.mark.parametrize("args, message", [
    (["demo", "--data", "swirl"], "invalid choice: 'swirl'"),
    (["demo", "--seed", "x"], "invalid int value: 'x'"),
    (["train"], "invalid choice: 'train'"),
    ([], "required: COMMAND"),
])
def test_bad_arguments_say_what_is_allowed(args, message):
    proc = run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr, proc.stderr


def test_readme_is_generated_from_index():
    proc = subprocess.run([sys.executable, "tools/readme.py", "--check"], cwd=ROOT, text=True, capture_output=True)
    assert proc.returncode == 0, proc.stdout
