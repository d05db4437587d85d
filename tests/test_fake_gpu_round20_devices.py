"""Round 20 fake-GPU regressions: values made on the default GPU meeting host state.

Each scenario runs under the strict fake CuPy (``test_fake_gpu_round19``):
  * a seeded augmentation layer built on the GPU and called inside a tf.data map
    (which runs under a ``/CPU:0`` scope) advanced its SeedGenerator with a delta
    made on ``cpu:0``;
  * ``OneDeviceStrategy("CPU:0")`` on a GPU host: ``fit`` fed GPU batches to CPU
    weights, metric ``reset_state`` assigned GPU zeros, ``strategy.reduce(MEAN)``
    divided by a GPU count;
  * a SavedModel signature over strings, loaded on a GPU default device, refused
    its string argument (the pickled spec's device came back as the GPU);
  * ``MirroredStrategy()`` over two fake GPUs takes the in-process communicator
    (no NCCL in the fake; ``cupy.cuda.nccl`` used to recurse) and trains eagerly.
"""


from tests.test_fake_gpu_round19 import run_script

_PRELUDE = r"""
import fake_gpu_plugin  # noqa: F401
import numpy as np
import dlframe as tf
tf.keras.utils.set_random_seed(1)
x = np.random.RandomState(0).randn(64, 4).astype("float32")
y = (x[:, :1] > 0).astype("float32")


def classifier(strategy, **compile_kw):
    with strategy.scope():
        model = tf.keras.Sequential([tf.keras.Input((4,)),
                                     tf.keras.layers.Dense(1, activation="sigmoid")])
        model.compile(tf.keras.optimizers.SGD(0.5), "binary_crossentropy",
                      metrics=["accuracy"], **compile_kw)
    hist = model.fit(x, y, batch_size=16, epochs=5, verbose=0).history
    assert hist["loss"][-1] < hist["loss"][0] and hist["accuracy"][-1] >= 0.9, hist
    return model
"""

_ONE_GPU = r"""
aug = tf.keras.layers.RandomFlip(seed=3)
images = np.arange(2 * 4 * 4 * 1, dtype="float32").reshape(2, 4, 4, 1)
ds = tf.data.Dataset.from_tensor_slices(images).batch(2).map(
    lambda b: aug(b, training=True))
assert [b.shape for b in ds] == [(2, 4, 4, 1)]
assert aug(images, training=True).device.endswith("GPU:0")
cpu = tf.distribute.OneDeviceStrategy("CPU:0")
model = classifier(cpu)
assert model.weights[0].device.endswith("CPU:0")
assert model.predict(x[:3], verbose=0).shape == (3, 1)
model.evaluate(x, y, verbose=0)   # metrics reset on the weights' device
out = cpu.run(lambda: tf.constant([1.0, 2.0, 3.0, 6.0]))
assert float(cpu.reduce("MEAN", out, axis=0)) == 3.0
import tempfile
vocab = tf.keras.layers.StringLookup(vocabulary=["a", "b"])


@tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
def serve(words):
    ids = vocab(words)
    return {"ids": ids, "n": tf.shape(words)[0] + tf.cast(tf.reduce_sum(ids), tf.int32)}


module = tf.Module()
module.vocab, module.serve = vocab, serve
path = tempfile.mkdtemp()
tf.saved_model.save(module, path, signatures={"serving_default": serve})
got = tf.saved_model.load(path).signatures["serving_default"](tf.constant(["b", "z"]))
assert got["ids"].numpy().tolist() == [2, 0] and int(got["n"]) == 4, got
assert got["ids"].device.endswith("GPU:0")
print("ONE-OK")
"""

_TWO_GPUS = r"""
two = tf.distribute.MirroredStrategy()
assert two.num_replicas_in_sync == 2
assert type(two.extended.communicator).__name__ == "InProcessCommunicator"
model = classifier(two, run_eagerly=True)
kernels = [v.numpy() for v in model.weights[0].values]
assert np.array_equal(kernels[0], kernels[1])   # replicas never drift
assert model.weights[0].values[1].device.endswith("GPU:1")
ids = two.run(lambda: tf.cast(
    tf.distribute.get_replica_context().replica_id_in_sync_group, tf.float32))
assert float(two.reduce("MEAN", ids, axis=None)) == 0.5
print("TWO-OK")
"""


def _run(script, gpus):
    return run_script(_PRELUDE + script, gpus=gpus)


def test_cpu_state_beside_a_gpu_default_device():
    assert "ONE-OK" in _run(_ONE_GPU, 1)


def test_mirrored_strategy_over_two_fake_gpus_trains_in_process():
    assert "TWO-OK" in _run(_TWO_GPUS, 2)
