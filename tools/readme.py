"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does, without needing Quarto).

Markdown cells are copied, visible code cells become fenced Python blocks, cells marked `#| hide` are left out.
`python tools/readme.py --check` exits 1 when README.md is out of date.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = "<!-- generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file -->\n\n"


def render(notebook: Path = ROOT / "nbs" / "index.ipynb") -> str:
    "The README text for `notebook`."
    parts = []
    for cell in json.loads(notebook.read_text())["cells"]:
        source = "".join(cell["source"]).strip()
        if not source or source.startswith("#| hide") or source.startswith("#|hide"):
            continue
        parts.append(source if cell["cell_type"] == "markdown" else f"```python\n{source}\n```")
    return HEADER + "\n\n".join(parts) + "\n"


def main(argv: list[str]) -> int:
    "Write README.md, or with `--check` report whether it is current."
    text, readme = render(), ROOT / "README.md"
    if "--check" in argv:
        if readme.read_text() != text:
            print("README.md is out of date: run `make readme` (python tools/readme.py)")
            return 1
        return 0
    readme.write_text(text)
    print(f"wrote {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
