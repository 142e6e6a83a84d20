"""Bad input raises errors that name the argument and what is allowed."""
import pytest
import torch

from energyflows.core import train_loop
from energyflows.ebm import MLPEnergy, short_run_sample, train_short_run, uniform_box
from energyflows.flows import vector_flow
from energyflows.langevin import NonFiniteError, langevin
from energyflows.metrics import sample_metrics
from energyflows.toy2d import get_dataset


def test_unknown_dataset_lists_the_names():
    with pytest.raises(ValueError, match="`name` must be one of .*'spiral'"):
        get_dataset("swirl")


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_sample_sizes_must_be_positive_integers(n):
    with pytest.raises(ValueError, match="`n` must be a positive integer"):
        get_dataset("spiral").sample(n)
    with pytest.raises(ValueError, match="`n` must be a positive integer"):
        uniform_box(n)


@pytest.mark.parametrize("shape", [(5,), (5, 3), (0, 2)])
def test_wrong_point_shapes(shape):
    with pytest.raises(ValueError, match=r"`x` must have shape \(N, 2\)"):
        get_dataset("8gaussians").log_prob(torch.zeros(shape))


def test_nan_inputs_are_named():
    x = torch.zeros(4, 2)
    x[2, 1] = float("nan")
    with pytest.raises(ValueError, match="`x` contains NaN or Inf .*row 2"):
        get_dataset("checkerboard").log_prob(x)
    with pytest.raises(ValueError, match="`x_init` contains NaN"):
        langevin(lambda v: -(v**2).sum(1), x, 3, 0.1)
    with pytest.raises(ValueError, match="`samples` contains NaN"):
        sample_metrics(get_dataset("spiral"), x)


@pytest.mark.parametrize("step_size", [0, -0.1, float("nan"), float("inf"), "big"])
def test_bad_step_sizes(step_size):
    with pytest.raises(ValueError, match="`step_size` must be a finite number > 0"):
        langevin(lambda v: -(v**2).sum(1), torch.zeros(3, 2), 3, step_size)


def test_bad_langevin_options():
    with pytest.raises(ValueError, match="`n_steps` must be an integer >= 0"):
        langevin(lambda v: -(v**2).sum(1), torch.zeros(3, 2), -1, 0.1)
    with pytest.raises(ValueError, match="`noise_scale` must be a finite number >= 0"):
        langevin(lambda v: -(v**2).sum(1), torch.zeros(3, 2), 3, 0.1, noise_scale=-1)
    with pytest.raises(ValueError, match="`clamp` must be None or a pair"):
        langevin(lambda v: -(v**2).sum(1), torch.zeros(3, 2), 3, 0.1, clamp=(1, -1))


def test_exploding_chain_names_the_step():
    with pytest.raises(NonFiniteError, match="first non-finite at step"):
        langevin(lambda v: (v**4).sum(1), torch.full((3, 2), 10.0), 50, 1.0)


def test_flow_shapes():
    flow = vector_flow(2, n_blocks=2)
    with pytest.raises(ValueError, match=r"`x` must have shape \(N, 2\)"):
        flow.log_prob(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="`n` must be a positive integer"):
        flow.sample(0)


def test_ebm_shapes_and_sizes():
    ebm = MLPEnergy()
    with pytest.raises(ValueError, match=r"`x` must have shape \(B, 2\)"):
        ebm(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="`n_iters` must be a positive integer"):
        train_short_run(ebm, get_dataset("spiral"), n_iters=0)
    with pytest.raises(ValueError, match="`lr` must be a finite number > 0"):
        train_short_run(ebm, get_dataset("spiral"), n_iters=1, lr=0)
    with pytest.raises(ValueError, match="`data batch` must have shape"):
        train_short_run(ebm, lambda n: torch.zeros(n, 3), n_iters=1, n_steps=1)
    assert short_run_sample(ebm, 7, n_steps=2).x.shape == (7, 2)


def test_training_stops_on_a_non_finite_loss():
    with pytest.raises(FloatingPointError, match="loss became nan at iteration 3"):
        train_loop(lambda i: {"loss": float("nan") if i == 3 else 1.0}, 10, progress=False)
