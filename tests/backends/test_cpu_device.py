"""CPU device: BLAS threading policy and device selection."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import backends
from dlframe.backends import numpy_backend


def _tunable_device(monkeypatch, seconds_one, seconds_many):
    """The CPU device with two BLAS threads, thread switches recorded and a clock
    that makes one-thread runs take ``seconds_one`` and two-thread ``seconds_many``."""
    dev = backends.get_device("cpu:0")
    seen = []
    blas = numpy_backend.blas_threads()
    monkeypatch.setattr(blas, "set", lambda n: seen.append(n))
    monkeypatch.setattr(dev, "_many", 2)
    monkeypatch.setattr(dev, "_gemm_threads", {})
    monkeypatch.setattr(dev, "_gemm_trials", {})
    monkeypatch.setattr(numpy_backend._load, "others_busy", lambda: False)
    now = [0.0]
    real_on = dev._matmul_on

    def timed_on(n, x, y):  # the fake clock advances by the run's thread count
        now[0] += seconds_many if n > 1 else seconds_one
        return real_on(n, x, y)
    monkeypatch.setattr(dev, "_matmul_on", timed_on)
    monkeypatch.setattr(dev, "_clock", lambda: now[0])
    return dev, seen


@pytest.mark.parametrize("one, many, expect", [(5e-5, 3e-5, 2), (3e-5, 5e-5, 1)])
def test_matmul_threads_tuned_per_shape(monkeypatch, one, many, expect):
    dev, seen = _tunable_device(monkeypatch, one, many)
    a = np.random.default_rng(0).random((300, 300)).astype(np.float32)
    for _ in range(6):                        # 3 timed runs on each thread count
        np.testing.assert_allclose(dev.matmul(a, a), a @ a, rtol=1e-5)
    assert seen.count(2) == 3
    key = next(iter(dev._gemm_threads))
    assert dev._gemm_threads == {key: expect} and dev._gemm_trials == {}
    seen.clear()
    dev.matmul(a, a)                          # the choice sticks for the shape
    assert seen == ([2, 1] if expect == 2 else [])
    seen.clear()
    dev.matmul(a.T, a)                        # another layout is tuned on its own
    assert len(dev._gemm_trials) == 1


def test_matmul_small_or_busy_stays_on_one_thread(monkeypatch):
    dev, seen = _tunable_device(monkeypatch, 5e-5, 1e-5)
    a = np.ones((300, 300), np.float32)
    dev.matmul(a[:10, :10], a[:10, :10])      # tiny: never switches, never tuned
    assert seen == [] and dev._gemm_trials == {}
    monkeypatch.setattr(numpy_backend._load, "others_busy", lambda: True)
    for _ in range(8):
        dev.matmul(a, a)                      # big but the machine is busy: one thread
    assert seen == [] and dev._gemm_threads == {}
    np.testing.assert_allclose(dev.matmul(a, a), a @ a)


def test_background_load_counts_other_processes_not_ours(monkeypatch):
    """Busy when other processes used more than half a core over the last window:
    CPU time seen in /proc/stat minus this process's own CPU time."""
    load = numpy_backend.BackgroundLoad(interval=0.0)
    hz = load._hz
    samples = iter([
        (0.0, 0, 0, 0.0),                        # (time, total ticks, idle ticks, own s)
        (1.0, 2 * hz, 0, 0.2),                   # 2 cores busy, we used 0.2 s: others 1.8
        (2.0, 4 * hz, int(1.1 * hz), 1.1),       # 0.9 cores busy, all of it ours
    ])
    monkeypatch.setattr(load, "_sample", lambda: next(samples))
    assert load.others_busy() is False           # first sample: no window yet
    assert load.others_busy() is True
    assert load.others_busy() is False


def test_device_parsing_and_errors():
    assert backends.get_device("/CPU:0") is backends.get_device("cpu:0")
    assert backends.get_device("/job:localhost/replica:0/task:0/device:CPU:0").name == "cpu:0"
    with pytest.raises(ValueError, match="Invalid device"):
        backends.get_device("cpu:zero")
    with pytest.raises(ValueError, match="does not exist"):
        backends.get_device("cpu:7")


def test_logical_cpus_and_cross_device_copies():
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(2)])
    try:
        assert len(tf.config.list_logical_devices("CPU")) == 2
        with tf.device("/CPU:1"):
            b = tf.constant([1.0, 2.0])
        a = tf.constant([1.0, 2.0])
        assert b.device.endswith("CPU:1")
        # as TF: operands are copied to the op's device (here the default one)
        total = a + b
        assert total.numpy().tolist() == [2.0, 4.0]
        assert total.device == a.device
        with tf.device("/CPU:1"):
            assert (a + b).device.endswith("CPU:1")
        with tf.device("/CPU:1"):
            moved = tf.identity(a)
        assert (moved + b).numpy().tolist() == [2.0, 4.0]
    finally:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()])


def test_no_gpu_lists_nothing_and_memory_info():
    if backends.gpu_available():
        pytest.skip("machine has a GPU")
    assert tf.config.list_physical_devices("GPU") == []
    info = tf.config.experimental.get_memory_info("CPU:0")
    assert set(info) == {"current", "peak"}
    tf.config.threading.set_intra_op_parallelism_threads(1)
    assert tf.config.threading.get_intra_op_parallelism_threads() == 1
    tf.config.threading.set_intra_op_parallelism_threads(0)


def test_gemm_loop_sets_threads_once(monkeypatch):
    dev = backends.get_device("cpu:0")
    seen = []
    blas = numpy_backend.blas_threads()
    monkeypatch.setattr(blas, "set", lambda n: seen.append(n))
    monkeypatch.setattr(dev, "_many", 2)
    monkeypatch.setattr(numpy_backend._load, "others_busy", lambda: False)
    a = np.ones((64, 128), np.float32)
    b = np.ones((128, 384), np.float32)
    with dev.gemm_loop(2.0 * 64 * 128 * 384):   # 6.3 MFLOP: two threads in a loop
        with dev.gemm_loop(1.0):                 # nested: keeps the outer choice
            for _ in range(3):
                np.testing.assert_allclose(dev.matmul(a, b), a @ b)
    assert seen == [2, 1]
    seen.clear()
    with dev.gemm_loop(1e3):                     # tiny products: one thread
        dev.matmul(a, b)
    assert seen == [1, 1]
    seen.clear()
    dev.matmul(a, b)                             # outside a loop: per-call policy
    assert seen in ([], [1])                     # per-call policy (tuning: one thread first)


def test_inf_and_nan_results_are_silent_like_tf_kernels_but_user_numpy_still_warns():
    import subprocess
    import sys
    code = (
        "import numpy as np, dlframe as tf\n"
        "vals = [tf.math.rsqrt(0.), tf.math.log(0.), tf.constant(1.) / 0., tf.exp(1e3),"
        " tf.sqrt(-1.)]\n"
        "print([str(v.numpy()) for v in vals])\n"
        "try:\n"
        "    np.log(np.zeros(1))\n"
        "except RuntimeWarning:\n"
        "    print('user warning kept')\n")
    out = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code],
                         capture_output=True, text=True, check=True).stdout
    assert "['inf', '-inf', 'inf', 'inf', 'nan']" in out
    assert "user warning kept" in out
