"""Speed of the 2-D CoopFlow on CPU beside a plain reference written here, in the same process.

    python benchmarks/coopflow2d.py [--threads 1] [--batch-size 256] [--langevin-steps 20] [--repeats 5]

Prints Langevin steps/s and CoopFlow training iterations/s for the project's code (`energyflows.ebm.revise`,
`energyflows.coopflow.coopflow_step`) and for a plain loop (fp32, one `torch.autograd.grad` call per step, no
diagnostics, no checks), and their ratio (project / plain: above 1 means the project is faster).
"""
from __future__ import annotations

import argparse
import time

import torch

from energyflows.coopflow import CoopFlowConfig, build_coopflow, coopflow_step
from energyflows.ebm import revise
from energyflows.toy2d import get_dataset


def plain_langevin(ebm, x, n_steps, step_size):
    "The reference: x ← x + s²/2 ∇f(x) + s ε with one autograd.grad call per step."
    for _ in range(n_steps):
        x = x.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(ebm(x).sum(), x)
        x = x + 0.5 * step_size**2 * grad + step_size * torch.randn_like(x)
    return x.detach()


def plain_iteration(model, ebm_opt, flow_opt, x_data, n_steps, step_size):
    "The reference CoopFlow iteration: propose, plain Langevin, EBM step, flow MLE step."
    with torch.no_grad():
        x_init = model.flow.sample(len(x_data))
    model.ebm.requires_grad_(False)
    x_revised = plain_langevin(model.ebm, x_init, n_steps, step_size)
    model.ebm.requires_grad_(True)
    loss = model.ebm(x_revised).mean() - model.ebm(x_data).mean()
    ebm_opt.zero_grad()
    loss.backward()
    ebm_opt.step()
    flow_loss = -model.flow.log_prob(x_revised).mean()
    flow_opt.zero_grad()
    flow_loss.backward()
    flow_opt.step()


def rate(fn, count: int, repeats: int) -> float:
    "Best-of-`repeats` rate of `fn()` in units of `count` per second (after one warm-up call)."
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return count / best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--langevin-steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = CoopFlowConfig(batch_size=args.batch_size, n_steps=args.langevin_steps)
    model = build_coopflow(config)
    data = get_dataset(config.data)
    x = data.sample(args.batch_size, seed=0)
    steps = 10 * config.n_steps
    project = rate(lambda: revise(model.ebm, x, steps, config.step_size), steps, args.repeats)
    model.ebm.requires_grad_(False)
    plain = rate(lambda: plain_langevin(model.ebm, x, steps, config.step_size), steps, args.repeats)
    model.ebm.requires_grad_(True)
    print(f"torch {torch.__version__}, {args.threads} thread(s), batch {args.batch_size}, T = {config.n_steps}")
    print(f"Langevin steps/s:        project {project:8.1f}   plain {plain:8.1f}   ratio {project / plain:.2f}")

    ebm_opt = torch.optim.Adam(model.ebm.parameters(), lr=config.ebm_lr)
    flow_opt = torch.optim.Adam(model.flow.parameters(), lr=config.flow_lr)
    iters = 20
    batch = data.sample(args.batch_size, seed=1)
    def project_iterations():
        for _ in range(iters):
            coopflow_step(model, ebm_opt, flow_opt, batch, config.n_steps, config.step_size)
    def plain_iterations():
        for _ in range(iters):
            plain_iteration(model, ebm_opt, flow_opt, batch, config.n_steps, config.step_size)
    project = rate(project_iterations, iters, args.repeats)
    plain = rate(plain_iterations, iters, args.repeats)
    print(f"CoopFlow iterations/s:   project {project:8.1f}   plain {plain:8.1f}   ratio {project / plain:.2f}")


if __name__ == "__main__":
    main()
