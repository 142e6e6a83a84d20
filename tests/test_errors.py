"""Bad input raises errors that name the argument and what is allowed."""
import pytest
import torch

from energyflows.core import train_loop
from energyflows.data import apply_mask, dequantize, logit_transform, quantize, random_flip, to_uint8, to_unit_range
from energyflows.ebm import ConvEnergy, MLPEnergy, ResNetEnergy, short_run_sample, train_short_run, uniform_box
from energyflows.flows import vector_flow
from energyflows.langevin import NonFiniteError, langevin
from energyflows.metrics import auroc, frechet_distance, mmd, mse, psnr, sample_metrics
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


def _log_gauss(v):
    return -(v**2).flatten(1).sum(1)


_pts, _img = torch.randn(6, 2), torch.rand(2, 1, 8, 8) * 2 - 1
_bytes = torch.randint(0, 256, (2, 1, 8, 8), dtype=torch.uint8)
_mlp, _conv, _resnet = MLPEnergy(), ConvEnergy(channels=1, width=4, image_size=8), ResNetEnergy(channels=1, width=4, image_size=8)
NOT_A_TENSOR = r"must be a torch\.Tensor of shape .*got ndarray \(convert it with torch\.as_tensor"
NOT_FLOAT = r"must be a floating-point tensor .*got dtype torch\.int64"
EMPTY = r"with B >= 1 and no empty dimension, got \(0, "
ONE_SAMPLE = r"got \(2,\); one sample needs a batch dimension"

BAD_INPUTS = [  # (id, call, error type, message)
    ("langevin numpy", lambda: langevin(_log_gauss, _pts.numpy(), 3, 0.1), TypeError, "`x_init` " + NOT_A_TENSOR),
    ("langevin integers", lambda: langevin(_log_gauss, _pts.long(), 3, 0.1), ValueError, "`x_init` " + NOT_FLOAT),
    ("langevin empty", lambda: langevin(_log_gauss, _pts[:0], 3, 0.1), ValueError, "`x_init` .*" + EMPTY),
    ("langevin 1-D", lambda: langevin(_log_gauss, _pts[0], 3, 0.1), ValueError, "`x_init` .*" + ONE_SAMPLE),
    ("MLPEnergy numpy", lambda: _mlp(_pts.numpy()), TypeError, r"`x` must be a torch\.Tensor of shape \(B, 2\), got ndarray"),
    ("MLPEnergy integers", lambda: _mlp(_pts.long()), ValueError, "`x` " + NOT_FLOAT),
    ("MLPEnergy empty", lambda: _mlp(_pts[:0]), ValueError, r"`x` must have shape \(B, 2\) " + EMPTY),
    ("MLPEnergy 1-D", lambda: _mlp(_pts[0]), ValueError, "`x` .*" + ONE_SAMPLE),
    ("ConvEnergy numpy", lambda: _conv(_img.numpy()), TypeError, r"`x` must be a torch\.Tensor of shape \(B, 1, 8, 8\)"),
    ("ConvEnergy bytes", lambda: _conv(_bytes), ValueError, r"`x` must be a floating-point tensor .*torch\.uint8"),
    ("ConvEnergy empty", lambda: _conv(_img[:0]), ValueError, r"`x` must have shape \(B, 1, 8, 8\) " + EMPTY),
    ("ConvEnergy no batch", lambda: _conv(_img[0]), ValueError, r"`x` must have shape \(B, 1, 8, 8\) .*got \(1, 8, 8\)"),
    ("ResNetEnergy numpy", lambda: _resnet(_img.numpy()), TypeError, r"`x` must be a torch\.Tensor of shape \(B, 1, 8, 8\)"),
    ("ResNetEnergy integers", lambda: _resnet(_img.long()), ValueError, "`x` " + NOT_FLOAT),
    ("ResNetEnergy empty", lambda: _resnet(_img[:0]), ValueError, r"`x` must have shape \(B, 1, 8, 8\) " + EMPTY),
    ("mmd numpy", lambda: mmd(_pts.numpy(), _pts), TypeError, "`x` " + NOT_A_TENSOR),
    ("mmd integers", lambda: mmd(_pts, _pts.long()), ValueError, "`y` " + NOT_FLOAT),
    ("mmd empty", lambda: mmd(_pts, _pts[:0]), ValueError, "`y` .*" + EMPTY),
    ("mmd 1-D", lambda: mmd(_pts[:, 0], _pts), ValueError, r"`x` must have shape \(B, D, \.\.\.\)"),
    ("mmd NaN", lambda: mmd(_pts, torch.full((3, 2), float("nan"))), ValueError, "`y` contains NaN"),
    ("mmd one point", lambda: mmd(_pts[:1], _pts[:1]), ValueError, "`bandwidth` None .*two distinct points"),
    ("sample_metrics numpy", lambda: sample_metrics(get_dataset("spiral"), _pts.numpy()), TypeError, "`samples` must be a torch.Tensor"),
    ("sample_metrics integers", lambda: sample_metrics(get_dataset("spiral"), _pts.long()), ValueError, "`samples` must be a floating-point"),
    ("sample_metrics empty", lambda: sample_metrics(get_dataset("spiral"), _pts[:0]), ValueError, r"`samples` must have shape \(N, 2\) with N >= 1"),
    ("frechet_distance empty", lambda: frechet_distance([], [], [], []), ValueError, "`mu1` must not be empty"),
    ("frechet_distance text", lambda: frechet_distance([0.0], "one", [0.0], [[1.0]]), ValueError, "`sigma1` must be a tensor or array of numbers"),
    ("mse numpy", lambda: mse(_img.numpy(), _img), TypeError, r"`x` must be a torch\.Tensor of shape \(B, \.\.\.\)"),
    ("mse empty", lambda: mse(_img, _img[:0]), ValueError, r"`y` must have shape \(B, \.\.\.\) " + EMPTY),
    ("psnr numpy", lambda: psnr(_img, _img.numpy()), TypeError, "`y` must be a torch.Tensor"),
    ("auroc empty", lambda: auroc([], []), ValueError, "`scores` must not be empty"),
    ("auroc text", lambda: auroc(["a", "b"], [0, 1]), ValueError, "`scores` must be a tensor or array of numbers"),
    ("to_unit_range numpy", lambda: to_unit_range(_bytes.numpy()), TypeError, "`images` must be a uint8 tensor, got ndarray"),
    ("to_unit_range floats", lambda: to_unit_range(_img), ValueError, r"`images` must be a uint8 tensor \(bytes 0…255\), got dtype torch\.float32"),
    ("dequantize numpy", lambda: dequantize(_bytes.numpy()), TypeError, "`images` must be a uint8 tensor, got ndarray"),
    ("to_uint8 numpy", lambda: to_uint8(_img.numpy()), TypeError, "`x` must be a torch.Tensor"),
    ("quantize bytes", lambda: quantize(_bytes), ValueError, r"`x` must be a floating-point tensor .*torch\.uint8"),
    ("logit_transform numpy", lambda: logit_transform(_img.numpy()), TypeError, "`x` must be a torch.Tensor"),
    ("random_flip numpy", lambda: random_flip(_img.numpy()), TypeError, "`x` must be a torch.Tensor"),
    ("apply_mask numpy mask", lambda: apply_mask(_img, torch.ones(2, 1, 8, 8).numpy()), TypeError, "`mask` must be a torch.Tensor"),
]


@pytest.mark.parametrize("call, error, message", [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUTS])
def test_bad_tensor_inputs(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_good_edge_inputs_still_work():
    test_point = torch.zeros(1, 2)
    assert langevin(_log_gauss, test_point, 2, 0.1).x.shape == (1, 2)  # one sample, with its batch dimension
    assert mse(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 1.0]), "none").tolist() == [1.0, 0.0]  # N numbers
    assert psnr(_bytes, _bytes.clone(), data_range=255) == float("inf")  # bytes are fine for PSNR
    assert apply_mask(_img, torch.ones(2, 1, 8, 8, dtype=torch.bool)).equal(_img)  # a boolean mask
