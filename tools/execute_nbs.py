"""Run notebooks in full mode (not test mode) and store their outputs, for the site.

    python tools/execute_nbs.py nbs/10_coopflow.ipynb [more notebooks] [--keep-slow] [--cells 33,56-58]

Uses execnb, the executor `nbdev_test` uses (in-process, no kernel), with PNG figures. Cells flagged `cuda` are
skipped on machines without a GPU; `slow` cells run, except with `--keep-slow`, which keeps their stored outputs
(to refresh the other cells of a chapter whose long study did not change). Progress bars are dropped from the stored outputs;
`--cells` refreshes one section of a chapter: only the listed code cells (indices into the notebook's cells) run, beside
the chapter's set-up (cells flagged `export` or `hide`, which define and import); every other cell keeps its stored
outputs. `nbdev_clean` runs afterwards on each executed notebook. Prints each notebook's time and size.
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


def is_setup(source: str) -> bool:
    "True for a cell flagged `#| export` or `#| hide`: definitions and imports that later cells need."
    first = source.lstrip().splitlines()[0].replace(" ", "") if source.strip() else ""
    return first in ("#|export", "#|hide")


def parse_cells(text: str) -> set[int]:
    "Cell indices from '33,56-58'."
    cells = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        cells.update(range(int(low), int(high or low) + 1))
    return cells


def execute(path: Path, keep_slow: bool = False, cells: set[int] | None = None) -> None:
    "Execute the notebook at `path` in place, stopping at the first error; with `keep_slow`, slow cells keep their outputs; with `cells`, only those (and the set-up) run."
    start = time.time()
    nb = read_nb(path)
    shell = CaptureShell(path.parent.resolve(), mpl_format="png")
    shell._fname = path
    index = {id(cell): i for i, cell in enumerate(nb.cells)}
    outside = lambda cell: cells is not None and index[id(cell)] not in cells and not is_setup(cell.source)
    skip = lambda cell: (cell.cell_type != "code" or "nbdev_export" + "(" in cell.source or needs_missing_gpu(cell.source)
                         or (keep_slow and is_slow(cell.source)) or outside(cell))
    shell.run_all(nb, exc_stop=True, preproc=skip)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not is_progress_bar(o)]
    write_nb(nb, path)
    print(f"{path.name}: {time.time() - start:.0f} s, {path.stat().st_size / 1e6:.2f} MB", flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    keep_slow = "--keep-slow" in args
    cells = parse_cells(args[args.index("--cells") + 1]) if "--cells" in args else None
    names = [a for i, a in enumerate(args) if a != "--keep-slow" and a != "--cells" and (i == 0 or args[i - 1] != "--cells")]
    for name in names:
        execute(Path(name), keep_slow, cells)
        # clean only this notebook: others in the tree may be open in an editor
        subprocess.run([str(Path(sys.executable).parent / "nbdev_clean"), "--fname", str(Path(name).resolve())], cwd=ROOT, check=True)
