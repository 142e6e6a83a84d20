"""Train the Fashion-MNIST classifier whose features define the offline image score FD-FMNIST (chapter 04).

    python tools/train_fashion_classifier.py [--epochs 3] [--batch-size 128] [--seed 0] [--width 16] [--threads N]
                                             [--out data/fashion_classifier.pt]

Runs on CPU in about two minutes (2 cores, or 1 thread while other jobs share them), reads Fashion-MNIST offline through `energyflows.data.load_images`, and
writes the checkpoint atomically with its test accuracy. The committed `data/fashion_classifier.pt` was made with
the defaults; retraining changes every FD-FMNIST figure (the cached reference statistics are keyed by the file's
digest), so report figures with the classifier file they were measured with.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from energyflows.metrics import fashion_classifier_path, train_fashion_classifier


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="passes over the 60,000 training images (default: 3)")
    parser.add_argument("--batch-size", type=int, default=128, help="images per step (default: 128)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (default: 3e-3)")
    parser.add_argument("--width", type=int, default=16, help="channels of the first conv block (default: 16)")
    parser.add_argument("--out", type=Path, default=None, help=f"checkpoint path (default: {fashion_classifier_path()})")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for torch (default: torch's choice; use 1 when other jobs share the cores)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = args.out or fashion_classifier_path()
    start = time.time()
    _, acc = train_fashion_classifier(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, out=out, lr=args.lr,
                                      width=args.width, progress=True)
    print(f"test accuracy {acc:.4f}; wrote {out} ({out.stat().st_size / 1e6:.2f} MB) in {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
