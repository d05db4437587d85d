"""CentralStorageStrategy: MirroredStrategy's replicated compute with the variables on
one parameter device; training equals single-device training on the same batches."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import config
from tests.distribute.keras_models import classifier_data, compiled_classifier


@pytest.fixture
def three_cpus():
    before = config.logical_cpu_count()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 3)
    try:
        yield
    finally:
        config._logical_cpu_count = before


def _data(n=60):
    return classifier_data(n)


def _train(strategy, run_eagerly=False, batch_norm=False):
    x, y = _data()
    model = compiled_classifier(strategy, 8, run_eagerly, batch_norm)
    # 60 rows in batches of 16: the last batch (12 rows) is split [6, 6]
    history = model.fit(x, y, batch_size=16, epochs=4, verbose=0, shuffle=False)
    return model, history.history


def test_defaults_and_devices(three_cpus):
    one = tf.distribute.experimental.CentralStorageStrategy(["CPU:0"])
    assert one.num_replicas_in_sync == 1
    assert one.extended.parameter_devices == \
        ("/job:localhost/replica:0/task:0/device:CPU:0",)
    several = tf.distribute.experimental.CentralStorageStrategy(["CPU:1", "CPU:2"])
    assert several.num_replicas_in_sync == 2
    # several compute devices: the variables go to the CPU (TF's default)
    assert several.extended.parameter_devices == \
        ("/job:localhost/replica:0/task:0/device:CPU:0",)
    assert several.extended.worker_devices[1].endswith("CPU:2")
    assert isinstance(several, tf.distribute.MirroredStrategy)  # its machinery


@pytest.mark.parametrize("devices,parameter_device", [
    (["CPU:0", "CPU:1"], None), (["CPU:1", "CPU:2"], "CPU:0")],
    ids=["params-on-first-replica", "params-apart"])
@pytest.mark.parametrize("run_eagerly", [False, True], ids=["function", "eager"])
def test_fit_matches_single_device(three_cpus, devices, parameter_device, run_eagerly):
    ref_model, ref_hist = _train(tf.distribute.OneDeviceStrategy("CPU:0"), run_eagerly)
    strategy = tf.distribute.experimental.CentralStorageStrategy(devices,
                                                                 parameter_device)
    model, hist = _train(strategy, run_eagerly)
    assert model.distribute_strategy is strategy
    kernel = model.weights[0]
    assert kernel.device.endswith("CPU:0")       # the parameter device
    np.testing.assert_allclose(hist["loss"], ref_hist["loss"], rtol=1e-5)
    for w, r in zip(model.weights, ref_model.weights):
        np.testing.assert_allclose(w.numpy(), r.numpy(), atol=1e-5)
    assert hist["loss"][-1] < hist["loss"][0]


def test_replica_assignments_equal_mirrored(three_cpus):
    """BatchNormalization's moving statistics are assigned inside the replicas: the
    combined value is written on the parameter device, as MirroredStrategy writes
    it on its first device."""
    mirrored, _ = _train(tf.distribute.MirroredStrategy(["CPU:1", "CPU:2"]),
                         batch_norm=True)
    central, _ = _train(tf.distribute.experimental.CentralStorageStrategy(
        ["CPU:1", "CPU:2"], "CPU:0"), batch_norm=True)
    for w, r in zip(central.weights, mirrored.weights):
        np.testing.assert_allclose(w.numpy(), r.numpy(), atol=1e-6)


def test_custom_loop_run_and_reduce(three_cpus):
    strategy = tf.distribute.experimental.CentralStorageStrategy(["CPU:1", "CPU:2"],
                                                                 "CPU:0")
    with strategy.scope():
        w = tf.Variable(2.0)
    assert w.device.endswith("CPU:0")
    per_replica = strategy.run(lambda: w * tf.cast(
        tf.distribute.get_replica_context().replica_id_in_sync_group + 1, "float32"))
    assert [float(v) for v in strategy.experimental_local_results(per_replica)] == \
        [2.0, 4.0]
    assert float(strategy.reduce("SUM", per_replica, axis=None)) == 6.0
    assert float(strategy.reduce("MEAN", per_replica, axis=None)) == 3.0


def test_bad_parameter_device(three_cpus):
    with pytest.raises(ValueError, match="parameter_device"):
        tf.distribute.experimental.CentralStorageStrategy(["CPU:0"], "CPU:7")
    with pytest.raises(ValueError, match="duplicates"):
        tf.distribute.experimental.CentralStorageStrategy(["CPU:0", "CPU:0"])
