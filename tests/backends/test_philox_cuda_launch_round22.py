"""How backends/philox_cuda.py launches its kernels (the CUDA source itself is checked by
test_philox_cuda_source_round22_A.py and, on a GPU, tests/gpu): arguments, grid size and the
fall back to the array twin when a kernel fails to compile."""

import types
import warnings

import numpy as np
import pytest

from dlframe.backends import philox_cuda


def _stub_cupy(fail=False):
    calls = []

    class ElementwiseKernel:
        def __init__(self, in_params, out_params, operation, name, preamble=""):
            self.name = name
            self.params = (in_params, out_params)

        def __call__(self, *args, size=None):
            if fail and self.name != "dlframe_philox_advance":
                raise RuntimeError("nvrtc: compile error")
            calls.append((self.name, args, size))

    cp = types.SimpleNamespace(ElementwiseKernel=ElementwiseKernel, empty=np.empty,
                               uint32=np.uint32, uint64=np.uint64)
    return cp, calls


@pytest.fixture(autouse=True)
def _fresh_kernel_cache(monkeypatch):
    monkeypatch.setattr(philox_cuda, "_kernels", {})
    monkeypatch.setattr(philox_cuda, "_usable", {})


def test_mask_draw_passes_state_count_rate_and_blocks():
    cp, calls = _stub_cupy()
    state = np.zeros(6, np.uint32)
    out, nblocks = philox_cuda.draw(cp, state, 10, "float16", gen_dtype="float32",
                                    rate=0.3, scale=1 / 0.7)
    assert out.shape == (10,) and out.dtype == np.float16
    assert nblocks == 3   # four float32 uniforms per Philox block
    name, args, size = calls[-1]
    assert name == "dlframe_philox_mask23" and size == 3
    assert args[0] is state and args[1] == np.uint64(10) and args[4] is out
    assert args[2] == float(np.float32(0.3)) and args[3] == pytest.approx(1 / 0.7)


def test_words_and_float64_uniforms_use_their_block_sizes():
    cp, calls = _stub_cupy()
    state = np.zeros(6, np.uint32)
    assert philox_cuda.words(cp, state, 9)[1] == 3
    assert calls[-1][0] == "dlframe_philox_uniform32"
    assert philox_cuda.draw(cp, state, 5, "float64")[1] == 3   # two per block
    assert calls[-1][0] == "dlframe_philox_uniform52"


def test_a_kernel_that_fails_to_compile_falls_back_to_the_twin_once():
    cp, _ = _stub_cupy(fail=True)
    state = np.zeros(6, np.uint32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert philox_cuda.draw(cp, state, 8, "float32") is None
    assert any("Philox CUDA kernel failed" in str(w.message) for w in caught)
    assert not philox_cuda.kernels_usable(cp)
    assert philox_cuda.words(cp, state, 8) is None   # no second try, no second warning
