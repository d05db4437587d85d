"""NCCL engine on real GPUs (skipped without one): world size 1 on one GPU, a
2-replica MirroredStrategy on two or more."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import backends


def _gpu_count():
    try:
        if not backends.gpu_available():
            return 0
        from dlframe.backends import cupy_backend
        return cupy_backend.gpu_count()
    except Exception:  # noqa: BLE001 - any probe failure means no usable GPU
        return 0


def _nccl():
    from dlframe.backends.nccl import nccl_available
    if not nccl_available():
        pytest.skip("NCCL is not available to CuPy")


@pytest.mark.gpu
def test_nccl_world_of_one():
    _nccl()
    from dlframe.distribute.communicators_nccl import NcclCommunicator
    gpu = backends.get_device("gpu:0")
    comm = NcclCommunicator([gpu])
    with tf.device("/GPU:0"):
        x = tf.constant([1.0, 2.0, 3.0])
        n = tf.constant([[4, 5]], dtype=tf.int64)
    (s,) = comm.all_reduce([x], "sum")
    (m,) = comm.all_reduce([x], "mean")
    assert s.device.endswith("GPU:0")
    np.testing.assert_array_equal(s.numpy(), [1, 2, 3])
    np.testing.assert_array_equal(m.numpy(), [1, 2, 3])
    np.testing.assert_array_equal(comm.all_reduce([n], "sum")[0].numpy(), [[4, 5]])
    np.testing.assert_array_equal(comm.broadcast([x])[0].numpy(), [1, 2, 3])
    np.testing.assert_array_equal(comm.all_gather([x])[0].numpy(), [1, 2, 3])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(comm.all_reduce([x * x], "sum")[0])
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2, 4, 6])
    step = tf.function(lambda t: comm.all_reduce([t * 2.0], "sum")[0])
    for _ in range(3):
        np.testing.assert_array_equal(step(x).numpy(), [2, 4, 6])


@pytest.mark.gpu
@pytest.mark.multi_gpu
def test_mirrored_strategy_on_two_gpus_matches_one():
    if _gpu_count() < 2:
        pytest.skip("needs two GPUs")
    _nccl()
    from dlframe import keras
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")

    def train(strategy):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
            opt = keras.optimizers.SGD(0.1)

        def step(inputs):
            xb, yb = inputs
            with tf.GradientTape() as tape:
                loss = tf.nn.compute_average_loss(tf.square(model(xb) - yb)[:, 0],
                                                  global_batch_size=32)
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            return loss
        dist = strategy.experimental_distribute_dataset(
            tf.data.Dataset.from_tensor_slices((x, y)).batch(32))
        for batch in dist:
            strategy.run(step, args=(batch,))
        return model

    two = tf.distribute.MirroredStrategy(["GPU:0", "GPU:1"],
                                         cross_device_ops=tf.distribute.NcclAllReduce())
    assert type(two.extended.communicator).__name__ == "NcclCommunicator"
    ref = train(tf.distribute.OneDeviceStrategy("GPU:0"))
    model = train(two)
    for w, r in zip(model.trainable_variables, ref.trainable_variables):
        a, b = two.experimental_local_results(w)
        np.testing.assert_allclose(a.numpy(), r.numpy(), atol=1e-6)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
