"""Round 24: which cuDNN RNN calls a CUDA graph may replay (the decision is device
independent; the replays themselves: tests/gpu/test_cudnn_capture_round24.py)."""

import types

from dlframe.core import graph_capture
from dlframe.ops import rnn_cudnn

GPU = types.SimpleNamespace(is_gpu=True)


def _node(prim, n_inputs):
    return [prim, list(range(n_inputs)), [100], {"cell_kind": "lstm"}, GPU]


def test_unmasked_cudnn_forward_and_backward_are_replayable():
    nodes = [_node(rnn_cudnn.cudnn_rnn_p, 6), _node(rnn_cudnn.cudnn_rnn_grad_p, 10)]
    assert graph_capture.replayable(nodes, set())


def test_masked_cudnn_calls_are_not():
    # a mask's lengths are read on the host (a sync a capture refuses)
    assert not graph_capture.replayable([_node(rnn_cudnn.cudnn_rnn_p, 7)], set())
    assert not graph_capture.replayable([_node(rnn_cudnn.cudnn_rnn_grad_p, 11)], set())


def test_other_stateful_nodes_stay_unreplayable():
    stateful = [p for p in (rnn_cudnn.cudnn_rnn_p,) if p.stateful]
    assert stateful, "CudnnRNN is stateful (its reserve space goes to the gradient)"
    plain = types.SimpleNamespace(name="SomeStatefulOp", stateful=True, effects=False,
                                  host_kernel=False)
    assert not graph_capture.replayable([[plain, [0], [1], {}, GPU]], set())


_GATES_UNDER_CAPTURE = """
import numpy as np
import cupy
from dlframe.ops import rnn_gates
rng = np.random.default_rng(0)
w = rng.standard_normal((5, 12)).astype("float32")   # 4 gates of 3 units
order, scales = (2, 0, 3, 1), (0.5, 1, 1, 0.5)
dev = cupy.asarray(w)
with cupy.cuda.fake_capture():   # a host index or factor array would be refused here
    blocks = rnn_gates.split_gates(cupy, dev, order, scales)
    back_t = rnn_gates.split_gates(cupy, dev, order, transpose=True)
    merged = rnn_gates.merge_gates(cupy, rnn_gates.split_gates(cupy, dev, order), order)
want = np.stack([w[:, 3 * g:3 * g + 3] * s for g, s in zip(order, scales)])
np.testing.assert_array_equal(cupy.asnumpy(blocks), want)
np.testing.assert_array_equal(cupy.asnumpy(back_t), np.stack(
    [w[:, 3 * g:3 * g + 3].T for g in order]))
np.testing.assert_array_equal(cupy.asnumpy(merged), w)
print("GATES-OK")
"""


def test_gate_blocks_are_made_without_host_copies_on_a_fake_gpu():
    # the portable LSTM/GRU kernels' weight blocks inside a captured step
    from tests.test_fake_gpu_round19 import run_script
    assert "GATES-OK" in run_script(_GATES_UNDER_CAPTURE)
