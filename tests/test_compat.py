"""tf.version, tf.test, tf.sysconfig, tf.config.experimental_run_functions_eagerly and
tf.compat (v1 logging/seeding/eager switches; TF1 graph API raising clearly)."""

import importlib.util
import logging
import pathlib
import re

import numpy as np
import pytest

import dlframe as tf


def test_version_reports_the_tf_api_level_in_tf_format():
    assert re.fullmatch(r"\d+\.\d+\.\d+", tf.version.VERSION)
    assert tf.version.VERSION == tf.__version__
    assert tf.version.GIT_VERSION.startswith("v" + tf.version.VERSION)
    # TF tutorials gate on the major version; dlframe follows the TF 2 API
    assert tuple(int(p) for p in tf.__version__.split(".")[:2]) >= (2, 0)
    assert tf.__version__ == tf.keras.__version__
    # setup.py's release number is dlframe's own
    setup = (pathlib.Path(__file__).resolve().parents[1] / "setup.py").read_text()
    assert re.search(r'version="([^"]+)"', setup).group(1) == \
        tf.version.DLFRAME_VERSION
    assert isinstance(tf.version.COMPILER_VERSION, str)


def test_device_queries_and_build_info():
    gpu = tf.test.is_gpu_available()
    assert gpu == bool(tf.config.list_logical_devices("GPU"))
    assert tf.test.gpu_device_name() == ("/device:GPU:0" if gpu else "")
    has_cupy = importlib.util.find_spec("cupy") is not None
    assert tf.test.is_built_with_cuda() == has_cupy
    info = tf.sysconfig.get_build_info()
    assert info["is_cuda_build"] == has_cupy and info["is_rocm_build"] is False


def test_experimental_run_functions_eagerly():
    traced = []

    @tf.function
    def fn(x):
        traced.append(tf.executing_eagerly())
        return x + 1
    try:
        tf.config.experimental_run_functions_eagerly(True)
        assert tf.config.experimental_functions_run_eagerly()
        fn(tf.constant(1.0))
        assert traced == [True]
    finally:
        tf.config.experimental_run_functions_eagerly(False)
    fn(tf.constant(1.0))
    assert traced == [True, False]


def test_compat_v1_names():
    v1 = tf.compat.v1
    assert tf.compat.v2 is tf
    assert v1.logging.ERROR == logging.ERROR and v1.logging.WARN == logging.WARNING
    old = logging.getLogger("tensorflow").level
    try:
        v1.logging.set_verbosity(v1.logging.ERROR)
        assert v1.logging.get_verbosity() == logging.ERROR
    finally:
        logging.getLogger("tensorflow").setLevel(old)
    v1.set_random_seed(3)
    a = tf.random.uniform([3]).numpy()
    tf.random.set_seed(3)
    np.testing.assert_array_equal(tf.random.uniform([3]).numpy(), a)
    assert v1.enable_eager_execution() is None and v1.executing_eagerly()
    assert v1.ones is tf.ones                   # other names: the TF2 API
    assert type(v1.Variable(1.0)) is tf.Variable   # VariableV1 makes TF2 Variables
    config = v1.ConfigProto()
    config.gpu_options.allow_growth = True
    np.testing.assert_array_equal(
        v1.py_func(lambda a: a * 2, [tf.constant([1.0])], tf.float32).numpy(), [2.0])
    assert tf.compat.as_bytes("a") == b"a" and tf.compat.as_text(b"a") == "a"


@pytest.mark.parametrize("api", ["placeholder", "disable_eager_execution",
                                 "disable_v2_behavior"])
def test_tf1_graph_api_raises_clearly(api):
    with pytest.raises(NotImplementedError, match=f"tf.compat.v1.{api} .*TensorFlow 2"):
        getattr(tf.compat.v1, api)(tf.float32)


def test_import_compat_v1_as_module():
    from dlframe.compat import v1
    assert v1.logging.INFO == logging.INFO
    with pytest.raises(AttributeError):
        v1.no_such_name  # noqa: B018
