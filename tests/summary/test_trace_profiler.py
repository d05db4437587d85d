"""tf.summary.trace_on(profiler=True) / trace_export / trace_off drive tf.profiler."""

import gzip
import json
import os

import pytest

import dlframe as tf


def _profiles(logdir):
    root = os.path.join(logdir, "plugins", "profile")
    if not os.path.isdir(root):
        return []
    return [os.path.join(root, run, f) for run in os.listdir(root)
            for f in os.listdir(os.path.join(root, run)) if f.endswith(".trace.json.gz")]


def test_trace_export_saves_a_profile_of_the_ops_run(tmp_path):
    @tf.function
    def step(x):
        return tf.reduce_sum(tf.matmul(x, x))

    tf.summary.trace_on(graph=True, profiler=True, profiler_outdir=str(tmp_path))
    assert float(step(tf.ones([3, 3]))) == 27.0
    tf.summary.trace_export(name="step_trace", step=0)
    files = _profiles(str(tmp_path))
    assert len(files) == 1
    with gzip.open(files[0]) as f:
        events = json.load(f)["traceEvents"]
    assert any(e.get("name") == "MatMul" for e in events)


def test_trace_off_discards_and_outdir_is_required(tmp_path):
    with pytest.raises(ValueError, match="profiler_outdir"):
        tf.summary.trace_on(profiler=True)
    tf.summary.trace_on(profiler=True, profiler_outdir=str(tmp_path))
    tf.reduce_sum(tf.ones([2]))
    tf.summary.trace_off()
    assert _profiles(str(tmp_path)) == []
    tf.summary.trace_on(graph=True)   # graph only: nothing to stop, nothing written
    tf.summary.trace_export("g", step=1)
    assert _profiles(str(tmp_path)) == []


def test_trace_export_needs_a_step_with_a_default_writer(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path / "logs"))
    tf.summary.trace_on(profiler=True, profiler_outdir=str(tmp_path / "prof"))
    with writer.as_default():
        with pytest.raises(ValueError, match="No step set"):
            tf.summary.trace_export("t")
        tf.summary.trace_export("t", step=3)
    assert len(_profiles(str(tmp_path / "prof"))) == 1
