"""Run notebooks in full mode (not test mode) and store their outputs, for the site.

    python tools/execute_nbs.py nbs/10_coopflow.ipynb [more notebooks] [--keep-slow]

Uses execnb, the executor `nbdev_test` uses (in-process, no kernel), with PNG figures. Cells flagged `cuda` are
skipped on machines without a GPU; `slow` cells run, except with `--keep-slow`, which keeps their stored outputs
(to refresh the other cells of a chapter whose long study did not change). Progress bars are dropped from the stored outputs;
`nbdev_clean` runs afterwards on each executed notebook. Prints each notebook's time and size.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
import torch

ROOT = Path(__file__).resolve().parents[1]


def is_progress_bar(output) -> bool:
    "True for a stream that holds tqdm progress-bar updates."
    text = "".join(output.get("text", ""))
    return output.get("output_type") == "stream" and "it/s]" in text and "\r" in text


def needs_missing_gpu(source: str) -> bool:
    "True for a cell flagged `#| cuda` when this machine has no GPU (its stored output is left empty)."
    flagged = any(line.replace(" ", "") in ("#|cuda",) for line in source.splitlines())
    return flagged and not torch.cuda.is_available()


def is_slow(source: str) -> bool:
    "True for a cell flagged `#| slow`."
    return any(line.replace(" ", "") == "#|slow" for line in source.splitlines())


def execute(path: Path, keep_slow: bool = False) -> None:
    "Execute the notebook at `path` in place, stopping at the first error; with `keep_slow`, slow cells keep their outputs."
    start = time.time()
    nb = read_nb(path)
    shell = CaptureShell(path.parent.resolve(), mpl_format="png")
    shell._fname = path
    skip = lambda cell: (cell.cell_type != "code" or "nbdev_export" + "(" in cell.source or needs_missing_gpu(cell.source)
                         or (keep_slow and is_slow(cell.source)))
    shell.run_all(nb, exc_stop=True, preproc=skip)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not is_progress_bar(o)]
    write_nb(nb, path)
    print(f"{path.name}: {time.time() - start:.0f} s, {path.stat().st_size / 1e6:.2f} MB", flush=True)


if __name__ == "__main__":
    keep_slow = "--keep-slow" in sys.argv[1:]
    for name in (a for a in sys.argv[1:] if a != "--keep-slow"):
        execute(Path(name), keep_slow)
        # clean only this notebook: others in the tree may be open in an editor
        subprocess.run([str(Path(sys.executable).parent / "nbdev_clean"), "--fname", str(Path(name).resolve())], cwd=ROOT, check=True)
