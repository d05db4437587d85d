"""TF2 scripts' other import paths (compat.v1.keras, compat.v2, python.keras,
python.client.device_lib) and the GPU-memory session idiom."""

import subprocess
import sys

import numpy as np
import pytest

import dlframe as tf


def test_compat_and_private_paths_resolve_to_the_one_real_module():
    import dlframe.compat.v1.keras.optimizers as v1_optimizers
    import dlframe.compat.v2 as tf2
    from dlframe.compat.v1.keras.layers import Dense
    from dlframe.compat.v2.keras.layers import LSTM
    from dlframe.python.keras import backend as K
    from dlframe.python.keras.layers import Dense as PrivateDense
    assert Dense is tf.keras.layers.Dense is PrivateDense
    assert LSTM is tf.keras.layers.LSTM
    assert K is tf.keras.backend
    assert tf2 is tf
    assert v1_optimizers.Adam is tf.keras.optimizers.Adam
    assert tf.compat.v1.keras.Sequential is tf.keras.Sequential
    # a layer made through an alias path is the same class: models accept it
    model = tf.keras.Sequential([tf.keras.Input((3,)), Dense(2)])
    assert model(np.ones((1, 3), "float32")).shape == (1, 2)


def test_alias_imports_do_not_load_a_second_copy_of_keras():
    code = ("import sys\n"
            "from dlframe.compat.v1.keras.layers import Dense\n"
            "from dlframe.python.keras.layers import Dense as D2\n"
            "import dlframe.keras.layers as real\n"
            "files = [m.__file__ for m in list(sys.modules.values())\n"
            "         if getattr(m, '__file__', '') and m.__file__.endswith(\n"
            "             'keras/layers/core.py')]\n"
            "print(len(files), Dense is real.Dense is D2)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["1", "True"]


def test_gpu_memory_growth_session_idiom_runs():
    from dlframe.compat.v1.keras.backend import set_session
    config = tf.compat.v1.ConfigProto()
    config.gpu_options.allow_growth = True
    config.gpu_options.per_process_gpu_memory_fraction = 0.5
    sess = tf.compat.v1.Session(config=config)
    set_session(sess)
    assert tf.compat.v1.keras.backend.get_session() is sess
    assert sess.config.gpu_options.allow_growth is True
    with tf.compat.v1.InteractiveSession() as other:
        assert isinstance(other, tf.compat.v1.Session)
    with pytest.raises(NotImplementedError, match="Session.run .*TensorFlow 2"):
        sess.run(tf.constant(1.0))
    with pytest.raises(NotImplementedError, match="graph"):
        tf.compat.v1.Session(graph=object())
    assert tf.executing_eagerly()


def test_device_lib_lists_the_cpu_then_each_gpu():
    from dlframe.python.client import device_lib
    devices = device_lib.list_local_devices()
    assert devices[0].name == "/device:CPU:0" and devices[0].device_type == "CPU"
    gpus = [d for d in devices if d.device_type == "GPU"]
    assert len(gpus) == len(tf.config.list_physical_devices("GPU"))
    assert [d.name for d in gpus] == [f"/device:GPU:{i}" for i in range(len(gpus))]
    assert 'device_type: "CPU"' in str(devices[0])


def test_compat_v1_keras_layers_has_the_cudnn_layers():
    from dlframe.compat.v1.keras.layers import CuDNNGRU, CuDNNLSTM
    assert tf.compat.v1.keras.layers.CuDNNLSTM is CuDNNLSTM
    assert not hasattr(tf.keras.layers, "CuDNNLSTM")   # TF2's tf.keras has none
    model = tf.keras.Sequential([tf.keras.Input((5, 3)), CuDNNGRU(4, return_sequences=True),
                                 CuDNNLSTM(2)])
    assert model(np.zeros((2, 5, 3), "float32")).shape == (2, 2)
