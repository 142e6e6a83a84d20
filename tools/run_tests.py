"""The whole test suite behind `make test`; ends with one line `N passed, N failed`.

1. `nbdev_export` and `nbdev_clean` must leave the notebooks and modules unchanged.
2. `nbdev_test` runs every notebook (cells flagged `slow` or `cuda` are skipped).
3. `pytest tests/`.
4. The docs preprocessing of `nbdev_proc_nbs` (without Quarto, which cannot be installed offline),
   and a check that every page of the sidebar in `_quarto.yml` was produced.
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SUMMARY = ROOT / ".test-summary"


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    "Run `cmd` in the repository root, echoing its output; return the completed process."
    print(f"\n$ {' '.join(cmd)}", flush=True)
    proc = subprocess.run(cmd, cwd=ROOT, text=True, capture_output=True, **kwargs)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    return proc


def fingerprint() -> dict[str, str]:
    "Hash of every notebook and generated module."
    files = sorted((ROOT / "nbs").glob("*.ipynb")) + sorted((ROOT / "energyflows").glob("*.py"))
    return {str(f.relative_to(ROOT)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def check_no_diff(results: dict[str, bool]):
    "Run nbdev_export and nbdev_clean; each passes when it changes no file."
    for tool in ("nbdev_export", "nbdev_clean"):
        before = fingerprint()
        proc = run([str(BIN / tool)])
        after = fingerprint()
        changed = sorted(f for f in set(before) | set(after) if before.get(f) != after.get(f))
        if changed:
            print(f"FAILED: {tool} changed {', '.join(changed)}: run `{tool}` and commit the result")
        results[f"{tool} leaves no diff"] = proc.returncode == 0 and not changed


def notebook_tests(results: dict[str, bool]):
    "Run nbdev_test over all notebooks on two workers; one result per notebook."
    notebooks = sorted(p.name for p in (ROOT / "nbs").glob("*.ipynb") if not p.name.startswith(("_", ".")))
    start = time.time()
    proc = run([str(BIN / "nbdev_test"), "--n_workers", "2", "--timing"])
    failed = set(re.findall(r"^\s+(\S+\.ipynb)\s*$", proc.stderr, flags=re.M))
    if proc.returncode != 0 and not failed:
        failed = set(notebooks)  # nbdev_test itself broke: count every notebook as failed
    print(f"nbdev_test: {len(notebooks) - len(failed)} notebooks passed, {len(failed)} failed in {time.time() - start:.0f} s")
    for name in notebooks:
        results[f"notebook {name}"] = name not in failed


def pytest_tests(results: dict[str, bool]):
    "Run pytest on tests/ and record one result per test case."
    report = Path(tempfile.mkdtemp()) / "pytest.xml"
    run([sys.executable, "-m", "pytest", "tests", "-q", f"--junitxml={report}"])
    if not report.exists():
        results["pytest ran"] = False
        return
    for case in ET.parse(report).getroot().iter("testcase"):
        outcome = {child.tag for child in case}
        if "skipped" in outcome:
            continue
        results[f"pytest {case.get('classname')}.{case.get('name')}"] = not outcome & {"failure", "error"}
    report.unlink()


def docs_preprocessing(results: dict[str, bool]):
    "Run nbdev_proc_nbs's steps without the Quarto installer and check that every sidebar page exists."
    code = (
        "import nbdev.quarto as q\n"
        "q._ensure_quarto = lambda: None  # the installer downloads Quarto; rendering is `make docs`\n"
        "q.nbdev_proc_nbs.__wrapped__(n_workers=2)\n"
    )
    try:
        proc = run([sys.executable, "-c", code], timeout=900)
    except subprocess.TimeoutExpired:  # a worker that dies leaves nbdev's pool waiting forever
        print("FAILED: the docs preprocessing did not finish in 15 minutes (run it with n_workers=0 to see the error)")
        results["docs preprocessing (nbdev_proc_nbs)"] = False
        return
    proc_dir = ROOT / "_proc"
    pages = re.findall(r"^\s*-\s+(?:href:\s*)?(\S+\.ipynb)\s*$", (ROOT / "_quarto.yml").read_text(), flags=re.M)
    missing = [p for p in pages if not (proc_dir / p).exists()]
    if missing:
        print(f"FAILED: the docs preprocessing did not produce {', '.join(missing)}")
    results["docs preprocessing (nbdev_proc_nbs)"] = proc.returncode == 0 and bool(pages) and not missing


def main() -> int:
    "Run every stage, print the failures and the summary line, and return the exit code."
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    start = time.time()
    results: dict[str, bool] = {}
    for stage in (check_no_diff, notebook_tests, pytest_tests, docs_preprocessing):
        stage(results)
    failed = [name for name, ok in results.items() if not ok]
    print(f"\n{'=' * 70}\nmake test finished in {time.time() - start:.0f} s")
    for name in failed:
        print(f"FAILED {name}")
    line = f"{len(results) - len(failed)} passed, {len(failed)} failed"
    SUMMARY.write_text(line + "\n")
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
