"""cuDNN LSTM/GRU on a real GPU vs the NumPy reference (GPU.md §6.8).

Marked ``gpu`` (tests/conftest.py skips it without a GPU); also skips when CuPy is
missing or libcudnn does not load. The checks live in smoke_gpu.py beside this file.
"""

import importlib.util
import itertools
import os

import numpy as np
import pytest

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

_spec = importlib.util.spec_from_file_location(
    "dlframe_smoke_gpu", os.path.join(os.path.dirname(__file__), "smoke_gpu.py"))
smoke = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(smoke)

CELLS = ["lstm", "gru"]
LAYOUTS = ["seq_major", "batch_major"]
LENGTHS = [None, smoke.LENGTHS]


@pytest.fixture(scope="module")
def device():
    if not cp.cuda.is_available():
        pytest.skip("no CUDA GPU")
    from dlframe.backends import cudnn
    try:
        cudnn.load_library()  # also covers "nvidia.cudnn wheel not installed"
    except cudnn.CudnnUnavailableError as exc:
        pytest.skip(f"libcudnn does not load: {exc}")
    return smoke.gpu_device()


@pytest.fixture(scope="module")
def kernels(device):
    from dlframe.backends import cudnn
    return {(cell, layout): cudnn.rnn_kernel(device, cell, layout=layout)
            for cell in CELLS for layout in LAYOUTS}


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("training", [False, True])
def test_forward(kernels, cell, layout, dtype, lengths, training):
    smoke.check_forward(kernels[cell, layout], cp, cell, dtype, lengths, training)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("lengths", LENGTHS)
def test_backward(kernels, cell, layout, dtype, lengths):
    smoke.check_backward(kernels[cell, layout], cp, cell, dtype, lengths)


@pytest.mark.parametrize("cell", CELLS)
def test_backward_without_states(kernels, cell):
    smoke.check_backward(kernels[cell, "seq_major"], cp, cell, "float64", smoke.LENGTHS,
                         with_states=False)


@pytest.mark.parametrize("cell", CELLS)
def test_interleaved_lengths_and_retain(kernels, cell):
    smoke.check_interleaved(kernels[cell, "seq_major"], cp, cell)


@pytest.mark.parametrize("cell", CELLS)
def test_streams_and_repeatability(kernels, cell):
    smoke.check_stream(kernels[cell, "seq_major"], cp, cell)


@pytest.mark.parametrize("cell", CELLS)
def test_layouts_agree(kernels, cell):
    arrays, _ = smoke.make_problem(cell, np.float32, seed=5)
    dev = smoke.to_device(cp, arrays)
    a = kernels[cell, "seq_major"].forward(**dev, seq_lengths=smoke.LENGTHS)
    b = kernels[cell, "batch_major"].forward(**dev, seq_lengths=smoke.LENGTHS)
    for x, y in zip(a[:3], b[:3]):
        if x is not None:
            np.testing.assert_allclose(cp.asnumpy(x), cp.asnumpy(y), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("cell", CELLS)
def test_torch_cross_check(kernels, cell):
    pytest.importorskip("torch")
    smoke.check_torch(kernels[cell, "seq_major"], cp, cell)


def test_device_method_returns_cudnn_kernel(device):
    from dlframe.backends import cudnn
    assert isinstance(device.rnn_kernel("gru"), cudnn.CudnnRNN)


def test_weight_views_disjoint_and_inside(kernels):
    """cuDNN's reported per-gate views do not overlap and fit the weight space."""
    for cell in CELLS:
        kern = kernels[cell, "seq_major"]
        arrays, _ = smoke.make_problem(cell, np.float32)
        kern.forward(**smoke.to_device(cp, arrays))
        plan = next(p for k, p in _plans(kern).items() if k[0] == cell and k[3] == "f")
        views = plan.views
        spans = sorted((o, o + int(np.prod(s))) for o, s in views.matrices + views.biases)
        print(cell, "weight views:", views)  # GPU.md §3.6 expects W..., R..., biases
        assert spans[0][0] >= 0 and spans[-1][1] <= views.size
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def _plans(kern):
    from dlframe.backends import cudnn
    return cudnn._context(kern.api, kern.device).plans


def test_invalid_inputs(kernels):
    kern = kernels["lstm", "seq_major"]
    arrays, _ = smoke.make_problem("lstm", np.float32)
    dev = smoke.to_device(cp, arrays)
    with pytest.raises(ValueError, match="portable"):
        kern.forward(**dev, seq_lengths=[5, 0, 1])
    with pytest.raises(TypeError, match="kernel"):
        kern.forward(**dict(dev, kernel=dev["kernel"].astype(cp.float64)))
