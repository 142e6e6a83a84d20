"""Speed of the 2-D CoopFlow on CPU beside a plain reference written here, in the same process.

    python benchmarks/coopflow2d.py [--threads 1] [--batch-size 256] [--langevin-steps 40] [--repeats 5] [--run]

Prints Langevin steps/s, CoopFlow training iterations/s and flow MLE iterations/s (the pretraining) for the project's
code (`energyflows.ebm.revise`, `energyflows.coopflow.coopflow_step`, `energyflows.flows.flow_mle_step`) and for a
plain loop (fp32, one `torch.autograd.grad` call per step, no diagnostics, no checks), and their ratio (project /
plain: above 1 means the project is faster). From the rates it estimates the seconds of the default run
(pretraining, warm-up and joint iterations of `CoopFlowConfig()`) for both; `--run` also times a real default run
(`run_coopflow2d` on the spiral, with its health scores, checkpoints and evaluation; its baseline trains on a second
core) beside that estimate of the plain loop.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from energyflows.coopflow import CoopFlowConfig, build_coopflow, coopflow_step, run_coopflow2d
from energyflows.ebm import revise
from energyflows.flows import flow_mle_step
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


def plain_mle_step(flow, optimizer, x):
    "The reference maximum-likelihood step."
    loss = -flow.log_prob(x).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def rate(fn, count: int, repeats: int) -> float:
    "Best-of-`repeats` rate of `fn()` in units of `count` per second (after one warm-up call)."
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return count / best


def row(name: str, project: float, plain: float) -> str:
    "One line of the table."
    return f"{name:26s} project {project:9.1f}   plain {plain:9.1f}   ratio {project / plain:.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=CoopFlowConfig.batch_size)
    parser.add_argument("--langevin-steps", type=int, default=CoopFlowConfig.n_steps)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--run", action="store_true", help="also time a real default run (about two minutes)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = CoopFlowConfig(batch_size=args.batch_size, n_steps=args.langevin_steps)
    model = build_coopflow(config)
    data = get_dataset(config.data)
    x = data.sample(args.batch_size, seed=0)
    steps = 10 * config.n_steps
    langevin = rate(lambda: revise(model.ebm, x, steps, config.step_size), steps, args.repeats)
    model.ebm.requires_grad_(False)
    plain_steps = rate(lambda: plain_langevin(model.ebm, x, steps, config.step_size), steps, args.repeats)
    model.ebm.requires_grad_(True)
    print(f"torch {torch.__version__}, {args.threads} thread(s), batch {args.batch_size}, T = {config.n_steps}, s = {config.step_size}")
    print(row("Langevin steps/s:", langevin, plain_steps))

    ebm_opt = torch.optim.Adam(model.ebm.parameters(), lr=config.ebm_lr)
    flow_opt = torch.optim.Adam(model.flow.parameters(), lr=config.flow_lr)
    iters, batch = 20, data.sample(args.batch_size, seed=1)

    def repeat(step):
        return lambda: [step() for _ in range(iters)]

    coop = rate(repeat(lambda: coopflow_step(model, ebm_opt, flow_opt, batch, config.n_steps, config.step_size)), iters, args.repeats)
    plain_coop = rate(repeat(lambda: plain_iteration(model, ebm_opt, flow_opt, batch, config.n_steps, config.step_size)), iters, args.repeats)
    print(row("CoopFlow iterations/s:", coop, plain_coop))
    mle = rate(repeat(lambda: flow_mle_step(model.flow, flow_opt, batch)), iters, args.repeats)
    plain_mle = rate(repeat(lambda: plain_mle_step(model.flow, flow_opt, batch)), iters, args.repeats)
    print(row("flow MLE iterations/s:", mle, plain_mle))

    loop = config.warmup_iters + config.n_iters
    estimate = config.pretrain_iters / mle + loop / coop
    plain_estimate = config.pretrain_iters / plain_mle + loop / plain_coop
    print(f"the default run ({config.pretrain_iters} pretraining + {loop} CoopFlow iterations), estimated from the rates: "
          f"project {estimate:.0f} s, plain {plain_estimate:.0f} s, ratio of speeds {plain_estimate / estimate:.2f}")
    if args.run:
        with tempfile.TemporaryDirectory() as folder:
            metrics = run_coopflow2d(CoopFlowConfig(), Path(folder) / "run", progress=False)
        print(f"a real default run (spiral): {metrics['seconds']:.0f} s of training (health scores and checkpoints included; "
              f"its baseline trained {metrics['mle_baseline']['iterations']} MLE iterations beside it); the plain loop's "
              f"estimate {plain_estimate:.0f} s, ratio of speeds {plain_estimate / metrics['seconds']:.2f}")


if __name__ == "__main__":
    main()
