"""Put Fashion-MNIST, the image set of the tests (chapters 04, 20 and 21), on disk when it is missing (`make data`).

1. Debian's `dataset-fashion-mnist` (IDX files in /usr/share/datasets/fashion-mnist) through apt-get, as root or
   with `sudo -n`; when the install fails, `apt-get update` and once more.
2. Else torchvision's download into data/fashion-mnist/ (or under $ENERGYFLOWS_DATA), where `load_images` looks.
3. Else a message saying how to provide the files, and exit status 1.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

from energyflows.data import DATASETS, DatasetUnavailable, data_root, dataset_folder, load_images

NAME, PACKAGE = "fashion-mnist", "dataset-fashion-mnist"


def missing() -> list[str]:
    "The splits of Fashion-MNIST whose files are not on disk."
    return [split for split in DATASETS[NAME].splits if dataset_folder(NAME, split) is None]


def root_prefix() -> list[str] | None:
    "The prefix that runs a command as root without a password prompt: [] as root, ['sudo', '-n'] where allowed, else None."
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def run(cmd: list[str]) -> bool:
    "Run `cmd` quietly; on failure print its last lines. True when it succeeded."
    print("$", " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if proc.returncode:
        print("\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:]))
    return proc.returncode == 0


def apt_install() -> bool:
    "Install Debian's package with apt-get (after `apt-get update` if the first try fails); True on success."
    prefix = root_prefix()
    if shutil.which("apt-get") is None or prefix is None:
        print("apt-get cannot be used here (not Debian/Ubuntu, or neither root nor passwordless sudo)")
        return False
    install = prefix + ["apt-get", "install", "-y", "-q", PACKAGE]
    return run(install) or (run(prefix + ["apt-get", "update", "-q"]) and run(install))


def download() -> bool:
    "Let torchvision download the missing splits under the data root (and cache them); True on success."
    print(f"downloading Fashion-MNIST with torchvision into {data_root() / DATASETS[NAME].folder}", flush=True)
    try:
        for split in missing():
            load_images(NAME, split, download=True)
    except DatasetUnavailable as err:  # the message lists what `main` prints below; show only why it failed
        print(f"the download failed: {err.__cause__ or err}")
        return False
    return True


def main() -> int:
    "Get Fashion-MNIST if needed; 0 when both splits are on disk afterwards."
    if not missing():
        print(f"Fashion-MNIST: found in {dataset_folder(NAME, 'train')}")
        return 0
    print("Fashion-MNIST is not on disk; the tests of chapters 04, 20 and 21 need it")
    if (apt_install() and not missing()) or (download() and not missing()):
        print(f"Fashion-MNIST: installed in {dataset_folder(NAME, 'train')}")
        return 0
    print(f"\nFashion-MNIST could not be installed. Provide it in one of these ways, then run `make test` again:\n"
          f"- `sudo apt-get install {PACKAGE}` (Debian/Ubuntu; puts the IDX files in /usr/share/datasets/fashion-mnist)\n"
          f"- on a machine with network: `make data` (torchvision downloads into {data_root() / NAME})\n"
          f"- copy {', '.join(DATASETS[NAME].files['train'] + DATASETS[NAME].files['test'])} (optionally .gz) into "
          f"{data_root() / NAME}, or set $ENERGYFLOWS_DATA to a folder whose {NAME}/ holds them")
    return 1


if __name__ == "__main__":
    sys.exit(main())
