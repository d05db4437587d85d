"""Quantized dtypes, tf.config.experimental device policy / synchronous execution,
tf.sysconfig build constants (values from TF 2.21)."""

import pytest

import dlframe as tf


def test_quantized_dtypes():
    expect = {"qint8": 1, "quint8": 1, "qint16": 2, "quint16": 2, "qint32": 4}
    for name, size in expect.items():
        d = getattr(tf, name)
        assert d is getattr(tf.dtypes, name) is tf.as_dtype(name)
        assert d.name == name and repr(d) == f"tf.{name}" and d.size == size
        assert d.is_quantized and not d.is_integer and not d.is_floating
        assert d.as_numpy_dtype.names == (name,)
        with pytest.raises(TypeError):
            _ = d.min
    assert tf.dtypes.QUANTIZED_DTYPES == {tf.qint8, tf.quint8, tf.qint16, tf.quint16,
                                          tf.qint32}
    assert not tf.float32.is_quantized and not tf.int8.is_quantized


def test_device_policy_and_synchronous_execution():
    exp = tf.config.experimental
    assert exp.get_synchronous_execution() is True
    exp.set_synchronous_execution(False)
    assert exp.get_synchronous_execution() is False
    exp.set_synchronous_execution(True)
    assert exp.get_device_policy() == "silent"
    try:
        exp.set_device_policy("explicit")
        assert exp.get_device_policy() == "explicit"
        exp.set_device_policy(None)
        assert exp.get_device_policy() == "silent"
        with pytest.raises(ValueError, match="device_policy"):
            exp.set_device_policy("bogus")
    finally:
        exp.set_device_policy(None)
    cpu = tf.config.list_physical_devices("CPU")[0]
    assert exp.get_virtual_device_configuration(cpu) == \
        tf.config.get_logical_device_configuration(cpu)


def test_sysconfig_constants():
    assert (tf.sysconfig.CXX11_ABI_FLAG, tf.sysconfig.CXX_VERSION,
            tf.sysconfig.MONOLITHIC_BUILD) == (1, 201703, 0)
