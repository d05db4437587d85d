"""Round 22 (B2): the IndexedSlices updates of Adam, Adagrad and RMSprop with repeated
ids (TF 2.21's per-row squares) on the strict fake CuPy, where the GPU branches of
``ops/sparse_training_ops.py`` run (``DLFRAME_DEVICE=gpu:0``). Runner:
tests/test_fake_gpu_round19.py."""

from test_fake_gpu_round19 import _pytest

MODULES = ["tests/keras/test_sparse_repeated_ids_round22_b.py",
           "tests/keras/test_optimizer_data_leftovers.py",
           "tests/keras/test_sparse_optimizer_updates.py"]


def test_round22_sparse_updates_pass_on_fake_gpu():
    _pytest(MODULES, timeout=300)
