"""tf.get_logger() is TF's 'tensorflow' logger and dlframe's own records obey it."""

import logging
import os
import subprocess
import sys

import pytest

import dlframe as tf
from dlframe.core import tape as tape_module


@pytest.fixture
def levels():
    """Restores the levels of the 'tensorflow' and 'dlframe' loggers."""
    loggers = [logging.getLogger("tensorflow"), logging.getLogger("dlframe")]
    saved = [lg.level for lg in loggers]
    yield
    for lg, level in zip(loggers, saved):
        lg.setLevel(level)


def _persistent_gradient_inside_context(monkeypatch):
    """Runs the code path that logs a dlframe warning (once per process)."""
    monkeypatch.setattr(tape_module, "_WARNED_INSIDE", set())
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        dy = tape.gradient(x ** 3, x)
    assert float(dy) == 12.0


def _dlframe_warnings(caplog):
    return [r for r in caplog.records
            if r.name == "dlframe" and r.levelno == logging.WARNING]


def test_get_logger_is_the_tensorflow_logger():
    logger = tf.get_logger()
    assert isinstance(logger, logging.Logger)
    assert logger.name == "tensorflow"
    assert logger is logging.getLogger("tensorflow")
    assert tf.get_logger() is logger


def test_dlframe_records_reach_handlers_with_their_own_name(caplog, levels,
                                                            monkeypatch):
    with caplog.at_level(logging.WARNING):
        _persistent_gradient_inside_context(monkeypatch)
    found = _dlframe_warnings(caplog)
    assert len(found) == 1
    assert "persistent tape inside its context" in found[0].getMessage()


@pytest.mark.parametrize("silence", [
    lambda: logging.getLogger("tensorflow").setLevel(logging.ERROR),
    lambda: tf.get_logger().setLevel("ERROR"),
    lambda: tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR),
], ids=["logging.getLogger", "get_logger.setLevel", "compat.v1.set_verbosity"])
def test_silencing_tensorflow_silences_dlframe(caplog, levels, monkeypatch, silence):
    caplog.set_level(logging.DEBUG)   # root handler sees everything that propagates
    logging.getLogger("dlframe").setLevel(logging.NOTSET)
    silence()
    assert tf.compat.v1.logging.get_verbosity() == logging.ERROR
    _persistent_gradient_inside_context(monkeypatch)
    assert _dlframe_warnings(caplog) == []
    tf.get_logger().setLevel(logging.WARNING)   # loud again
    _persistent_gradient_inside_context(monkeypatch)
    assert len(_dlframe_warnings(caplog)) == 1


def test_dlframe_logger_level_overrides_tensorflow(caplog, levels, monkeypatch):
    caplog.set_level(logging.DEBUG)
    tf.get_logger().setLevel(logging.ERROR)
    logging.getLogger("dlframe").setLevel(logging.INFO)   # a child's own level wins
    _persistent_gradient_inside_context(monkeypatch)
    assert len(_dlframe_warnings(caplog)) == 1


def test_tensorflow_logger_handler_receives_dlframe_records(levels, monkeypatch):
    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record)
    handler = Collect(level=logging.WARNING)
    tf.get_logger().addHandler(handler)
    try:
        _persistent_gradient_inside_context(monkeypatch)
    finally:
        tf.get_logger().removeHandler(handler)
    assert [r.name for r in records] == ["dlframe"]


def test_compat_v1_logging_writes_to_the_tensorflow_logger(caplog, levels):
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        tf.compat.v1.logging.info("step %d done", 3)
        tf.get_logger().warning("from user code")
    got = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert ("tensorflow", logging.INFO, "step 3 done") in got
    assert ("tensorflow", logging.WARNING, "from user code") in got


def test_set_verbosity_round_trip(levels):
    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.INFO)
    assert tf.get_logger().level == logging.INFO
    assert tf.compat.v1.logging.get_verbosity() == logging.INFO
    tf.get_logger().setLevel("ERROR")   # TF 2.21: get_verbosity follows it (40)
    assert tf.compat.v1.logging.get_verbosity() == 40


def test_autograph_set_verbosity_accepts_tf_arguments():
    assert tf.autograph.set_verbosity(0) is None
    assert tf.autograph.set_verbosity(10, alsologtostdout=True) is None


def test_tf_cpp_min_log_level_habit_does_not_break_import():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    code = ("import logging, dlframe as tf; "
            "tf.get_logger().setLevel(logging.ERROR); "
            "print(tf.get_logger().name, tf.constant([1.0, 2.0]).numpy().sum())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True, timeout=120)
    assert out.stdout.split() == ["tensorflow", "3.0"]
