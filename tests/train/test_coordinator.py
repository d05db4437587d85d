"""tf.train.Coordinator, tf.train.checkpoints_iterator, tf.saved_model.Asset and the
tf.saved_model constants (values from TF 2.21)."""

import os
import threading
import time

import pytest

import dlframe as tf


def _workers(coord, fail_in=None, n=3):
    def work(i):
        with coord.stop_on_exception():
            steps = 0
            while not coord.should_stop():
                steps += 1
                time.sleep(0.001)
                if i == fail_in and steps > 5:
                    raise ValueError("boom")
    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    return threads


def test_coordinator_reraises_the_first_error_after_joining():
    coord = tf.train.Coordinator()
    threads = _workers(coord, fail_in=2)
    with pytest.raises(ValueError, match="boom"):
        coord.join(threads)
    assert coord.joined and coord.should_stop()
    assert not any(t.is_alive() for t in threads)


def test_coordinator_clean_stop_and_out_of_range():
    coord = tf.train.Coordinator()
    threads = _workers(coord)
    coord.register_thread(threading.Thread(target=lambda: None))
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "end"))   # clean stop
    coord.join(threads)
    coord.raise_requested_exception()
    coord.clear_stop()
    assert not coord.should_stop() and not coord.joined
    assert not coord.wait_for_stop(0.01)
    coord.request_stop()
    assert coord.wait_for_stop(0.01)


def test_coordinator_reports_threads_that_do_not_stop():
    coord = tf.train.Coordinator()
    release = threading.Event()
    stuck = threading.Thread(target=release.wait, name="stuck-thread")
    stuck.start()
    coord.request_stop()
    with pytest.raises(RuntimeError, match="stuck-thread"):
        coord.join([stuck], stop_grace_period_secs=0.05)
    coord.clear_stop()
    coord.request_stop()
    coord.join([stuck], stop_grace_period_secs=0.01, ignore_live_threads=True)
    release.set()
    stuck.join()


def test_checkpoints_iterator_yields_new_checkpoints_then_times_out(tmp_path):
    v = tf.Variable(1.0)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=v), str(tmp_path), 5)
    first = manager.save()
    calls = []
    found = []

    def timeout_fn():
        calls.append(1)
        if len(calls) == 1:
            found.append(manager.save())   # a new one arrives while waiting
            return False
        return True
    paths = list(tf.train.checkpoints_iterator(str(tmp_path), timeout=0.2,
                                               timeout_fn=timeout_fn))
    assert paths == [first] + found
    assert len(calls) == 2
    start = time.monotonic()
    it = tf.train.checkpoints_iterator(str(tmp_path / "none"), timeout=0.1)
    assert list(it) == []
    assert time.monotonic() - start < 5


def test_saved_model_constants():
    sm = tf.saved_model
    assert (sm.ASSETS_DIRECTORY, sm.ASSETS_KEY, sm.VARIABLES_DIRECTORY,
            sm.VARIABLES_FILENAME) == ("assets", "saved_model_assets", "variables",
                                       "variables")
    assert (sm.SAVED_MODEL_FILENAME_PB, sm.SAVED_MODEL_FILENAME_PBTXT,
            sm.SAVED_MODEL_SCHEMA_VERSION) == ("saved_model.pb", "saved_model.pbtxt", 1)
    assert sm.PREDICT_METHOD_NAME == "tensorflow/serving/predict"
    assert sm.CLASSIFY_METHOD_NAME == "tensorflow/serving/classify"
    assert sm.REGRESS_METHOD_NAME == "tensorflow/serving/regress"
    assert (sm.PREDICT_INPUTS, sm.PREDICT_OUTPUTS, sm.CLASSIFY_OUTPUT_CLASSES,
            sm.CLASSIFY_OUTPUT_SCORES) == ("inputs", "outputs", "classes", "scores")
    assert (sm.SERVING, sm.TRAINING, sm.GPU, sm.TPU) == ("serve", "train", "gpu", "tpu")
    assert sm.DEBUG_INFO_FILENAME_PB == "saved_model_debug_info.pb"


def test_asset_travels_with_the_saved_model(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("a\nb\n")
    module = tf.Module()
    module.vocab = tf.saved_model.Asset(str(vocab))
    module.v = tf.Variable(2.0)
    assert module.vocab.asset_path.numpy() == str(vocab).encode()
    export = tmp_path / "sm"
    tf.saved_model.save(module, str(export))
    os.remove(vocab)
    loaded = tf.saved_model.load(str(export))
    path = loaded.vocab.asset_path.numpy().decode()
    assert path == str(export / "assets" / "vocab.txt")
    with open(path) as f:
        assert f.read() == "a\nb\n"
    assert float(loaded.v) == 2.0
    with pytest.raises(TypeError, match="path"):
        tf.saved_model.Asset(3)
