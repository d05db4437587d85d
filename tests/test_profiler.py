"""tf.profiler: op dispatches and Trace regions written as a TensorBoard trace."""

import glob
import gzip
import json
import os
import socket
import sys
import threading

import numpy as np
import pytest

import dlframe as tf

prof = tf.profiler.experimental
_primitive = sys.modules["dlframe.core.primitive"]


def _trace_files(logdir):
    return glob.glob(os.path.join(str(logdir), "plugins", "profile", "*",
                                  "*.trace.json.gz"))


def _load(logdir):
    files = _trace_files(logdir)
    assert len(files) == 1, files
    with gzip.open(files[0], "rt", encoding="utf-8") as f:
        return json.load(f)


def _complete(trace, cat=None):
    return [e for e in trace["traceEvents"]
            if e["ph"] == "X" and (cat is None or e["cat"] == cat)]


@pytest.fixture(autouse=True)
def _no_session_left():
    yield
    if _primitive.PROFILER is not None:   # a failed test must not leak a session
        prof.stop(save=False)


def test_start_stop_writes_tensorboard_layout(tmp_path):
    prof.start(str(tmp_path))
    assert _primitive.PROFILER is not None
    a = tf.constant(np.ones((3, 3), np.float32))
    tf.nn.relu(tf.matmul(a, a))
    prof.stop()
    assert _primitive.PROFILER is None
    files = _trace_files(tmp_path)
    assert len(files) == 1
    run_dir, name = os.path.split(files[0])
    assert name == f"{socket.gethostname()}.trace.json.gz"
    run = os.path.basename(run_dir)   # YYYY_MM_DD_HH_MM_SS, as TF names runs
    assert len(run.split("_")) == 6 and all(p.isdigit() for p in run.split("_"))
    trace = _load(tmp_path)
    ops = _complete(trace, "op")
    names = [e["name"] for e in ops]
    assert names[-2:] == ["MatMul", "Relu"]
    assert all(e["dur"] >= 0 and e["ts"] >= 0 and e["args"]["device"] for e in ops)
    meta = {(e["name"], e["args"].get("name")) for e in trace["traceEvents"]
            if e["ph"] == "M"}
    assert ("process_name", "/host:CPU") in meta
    assert ("thread_name", threading.current_thread().name) in meta


def test_errors_match_tf(tmp_path):
    with pytest.raises(tf.errors.UnavailableError, match="No profiler is running"):
        prof.stop()
    prof.start(str(tmp_path))
    with pytest.raises(tf.errors.AlreadyExistsError, match="Another profiler"):
        prof.start(str(tmp_path))
    prof.stop(save=False)
    assert not os.path.exists(tmp_path / "plugins")   # save=False writes nothing
    with pytest.raises(TypeError, match="options"):
        prof.start(str(tmp_path), options="bad")
    with pytest.raises(ValueError, match="host_tracer_level"):
        prof.start(str(tmp_path), options=prof.ProfilerOptions(host_tracer_level=-1))
    with pytest.raises(TypeError, match="logdir"):
        prof.start(None)
    assert _primitive.PROFILER is None


def test_trace_regions_nest_ops_and_keep_metadata(tmp_path):
    with prof.Trace("outside"):   # no profiler: nothing recorded, no error
        tf.exp(tf.constant(1.0))
    with prof.Profile(str(tmp_path)):
        for step in range(3):
            with prof.Trace("train", step_num=step, _r=1) as region:
                region.set_metadata(batch_size=32)
                tf.exp(tf.constant([1.0, 2.0]))
    trace = _load(tmp_path)
    regions = _complete(trace, "trace")
    assert [r["name"] for r in regions] == ["train"] * 3
    assert [r["args"]["step_num"] for r in regions] == ["0", "1", "2"]
    assert regions[0]["args"]["_r"] == "1" and regions[0]["args"]["batch_size"] == "32"
    exps = [e for e in _complete(trace, "op") if e["name"] == "Exp"]
    assert len(exps) == 3
    for region, op in zip(regions, exps):   # each op lies inside its step's region
        assert region["ts"] <= op["ts"]
        assert op["ts"] + op["dur"] <= region["ts"] + region["dur"] + 1e-3


def test_function_graph_nodes_are_recorded(tmp_path):
    @tf.function
    def step(x):
        return tf.reduce_sum(tf.tanh(x) * 2.0)
    # pinned to CPU: a GPU fuses Tanh and Mul into one 'Tanh+Mul' step (tested in
    # test_gpu_fixes_round21_F)
    with tf.device("cpu:0"):
        x = tf.constant(np.ones((4,), np.float32))
        step(x)   # traced before profiling: the compiled graph runs its nodes
        with prof.Profile(str(tmp_path)):
            out = step(x)
    assert float(out) == pytest.approx(8 * np.tanh(1.0), rel=1e-6)
    names = {e["name"] for e in _complete(_load(tmp_path), "op")}
    assert {"Tanh", "Mul", "Sum"} <= names
    assert float(step(x)) == pytest.approx(float(out))   # plain again afterwards


def test_threads_are_named(tmp_path):
    prof.start(str(tmp_path))
    worker = threading.Thread(target=lambda: tf.sqrt(tf.constant(4.0)), name="feeder")
    worker.start()
    worker.join()
    prof.stop()
    trace = _load(tmp_path)
    sqrt = [e for e in _complete(trace, "op") if e["name"] == "Sqrt"]
    assert len(sqrt) == 1
    names = {e["tid"]: e["args"]["name"] for e in trace["traceEvents"]
             if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names[sqrt[0]["tid"]] == "feeder"


def test_options_levels_and_delay(tmp_path):
    opts = prof.ProfilerOptions()
    assert opts == (2, 0, 1, None) and opts._fields == (
        "host_tracer_level", "python_tracer_level", "device_tracer_level", "delay_ms")
    assert prof.ProfilerOptions(host_tracer_level=3).host_tracer_level == 3
    regions_only = tmp_path / "level1"
    with prof.Profile(str(regions_only), prof.ProfilerOptions(host_tracer_level=1)), \
            prof.Trace("region"):
        tf.exp(tf.constant(1.0))
    assert [e["cat"] for e in _complete(_load(regions_only))] == ["trace"]
    python = tmp_path / "python"

    def user_function():
        return tf.exp(tf.constant(1.0))
    with prof.Profile(str(python), prof.ProfilerOptions(python_tracer_level=1)):
        user_function()
    assert sys.getprofile() is None
    calls = [e["name"] for e in _complete(_load(python), "python")]
    assert any(n.startswith("user_function (test_profiler.py") for n in calls)
    delayed = tmp_path / "delayed"
    with prof.Profile(str(delayed), prof.ProfilerOptions(delay_ms=60_000)):
        tf.exp(tf.constant(1.0))
    assert _complete(_load(delayed)) == []


def test_remote_profiling_raises_clearly(tmp_path):
    with pytest.raises(tf.errors.UnimplementedError, match="no gRPC profiler server"):
        prof.server.start(6009)
    with pytest.raises(RuntimeError, match="UNAVAILABLE"):
        prof.client.trace("grpc://localhost:6009", str(tmp_path), 100)
    with pytest.raises(tf.errors.UnavailableError):
        prof.client.monitor("grpc://localhost:6009", 100)
    with pytest.raises(tf.errors.InvalidArgumentError, match="host-port"):
        prof.client.trace("", str(tmp_path), 100)
    with pytest.raises(ValueError, match="duration_ms"):
        prof.client.trace("grpc://localhost:6009", str(tmp_path), 0)


def test_keras_tensorboard_profile_batch(tmp_path):
    pytest.importorskip("tensorboardX")
    keras = tf.keras
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((64, 4), np.float32), np.ones((64, 1), np.float32)
    board = keras.callbacks.TensorBoard(log_dir=str(tmp_path), profile_batch=(3, 5))
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[board])
    assert _primitive.PROFILER is None
    trace = _load(tmp_path / "train")
    regions = _complete(trace, "trace")
    assert [r["name"] for r in regions] == ["Profiled batch"] * 3
    assert [r["args"]["step_num"] for r in regions] == ["2", "3", "4"]
    names = {e["name"] for e in _complete(trace, "op")}
    assert "MatMul" in names
    for bad in (-1, (3, 1), (1, 2, 3), None):
        with pytest.raises(ValueError, match="profile_batch must be"):
            keras.callbacks.TensorBoard(log_dir=str(tmp_path), profile_batch=bad)
    assert keras.callbacks.TensorBoard(profile_batch="2,5")._stop_batch == 5
    # a session the user started is left alone: Keras logs and trains on
    prof.start(str(tmp_path / "user"))
    board = keras.callbacks.TensorBoard(log_dir=str(tmp_path / "cb"), profile_batch=1)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[board])
    prof.stop()
    assert len(_trace_files(tmp_path / "user")) == 1
    assert _trace_files(tmp_path / "cb" / "train") == []
