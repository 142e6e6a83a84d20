"""Run the code cells of notebooks in test mode without Jupyter: for machines that have torch but not nbdev.

    python tools/run_cells.py nbs/01_langevin.ipynb nbs/21_train.ipynb [--flags cuda]

Cells flagged with a `tst_flags` flag run only when the flag is given (`cuda` cells also need a GPU); `eval: false`
cells and the closing `nbdev_export()` call are skipped. Each notebook runs in its own namespace, from the `nbs/`
folder as nbdev_test does, and the script prints one line per notebook and stops at the first failure.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import traceback
from pathlib import Path

FLAGS = ("slow", "cuda")


def directives(source: str) -> set[str]:
    "The `#| ...` directive words at the top of a cell."
    words = set()
    for line in source.splitlines():
        if not line.startswith("#|"):
            break
        words.update(re.split(r"[\s:]+", line[2:].strip()))
    return words


def run_notebook(path: Path, flags: set[str]) -> float:
    "Execute the notebook's runnable cells in one namespace; return the seconds it took."
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    namespace = {"__name__": "__main__"}
    start, cwd = time.time(), os.getcwd()
    os.chdir(path.parent)
    try:
        for index, cell in enumerate(cells):
            source = "".join(cell["source"])
            words = directives(source)
            if ("eval" in words and "false" in words) or (words & set(FLAGS)) - flags or "nbdev_export()" in source:
                continue
            try:
                exec(compile(source, f"{path.name}[cell {index}]", "exec"), namespace)
            except Exception:
                traceback.print_exc()
                raise SystemExit(f"FAILED: {path.name}, code cell {index}")
    finally:
        os.chdir(cwd)
    return time.time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--flags", nargs="*", default=[], choices=FLAGS, help="flagged cells to run as well")
    args = parser.parse_args()
    os.environ["IN_TEST"] = "1"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import matplotlib
    matplotlib.use("Agg")
    for notebook in args.notebooks:
        print(f"{notebook.name}: passed in {run_notebook(notebook.resolve(), set(args.flags)):.0f} s", flush=True)


if __name__ == "__main__":
    main()
