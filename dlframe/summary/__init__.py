"""``tf.summary``: TensorBoard summaries written in TensorFlow 2's event format.

Event files are written through tensorboardX (``pip install 'dlframe[tensorboard]'``),
imported when the first writer is created.
"""

from dlframe.summary import experimental
from dlframe.summary.summary_ops import audio, histogram, image, scalar, text, write
from dlframe.summary.writer import (
    SummaryWriter,
    create_file_writer,
    create_noop_writer,
    flush,
    record_if,
    should_record_summaries,
)


def graph(graph_data):
    """Writes nothing and returns False: dlframe has no TensorFlow ``GraphDef`` for
    TensorBoard's graph dashboard (its ``dlframe.function`` graphs are not TF
    graphs). The False result is TF's "no summary was written"."""
    import logging
    logging.getLogger("dlframe").warning(
        "tf.summary.graph: dlframe has no GraphDef to write; nothing was written.")
    from dlframe.core.tensor import convert_to_tensor
    return convert_to_tensor(False)


_TRACE = {"profiler": False}


def trace_on(graph=True, profiler=False, profiler_outdir=None):
    """Starts a trace; with ``profiler=True`` it runs ``tf.profiler`` into
    ``profiler_outdir`` until ``trace_export`` (saves) or ``trace_off``.

    Args:
      graph: accepted; dlframe has no GraphDef for TensorBoard's graph dashboard.
      profiler: record a profile (every op and compiled-graph node).
      profiler_outdir: the profile's log directory (required with ``profiler``).
    """
    if profiler and not _TRACE["profiler"]:
        if profiler_outdir is None:
            raise ValueError("Required profiler_outdir is not specified")
        from dlframe.profiler import experimental as _profiler
        _profiler.start(profiler_outdir)
        _TRACE["profiler"] = True


def _stop_profiler(save):
    if _TRACE["profiler"]:
        from dlframe.profiler import experimental as _profiler
        _TRACE["profiler"] = False
        _profiler.stop(save=save)


def trace_off():
    """Stops the trace without exporting (a running profile is discarded)."""
    _stop_profiler(save=False)


def trace_export(name, step=None, profiler_outdir=None):
    """Stops the trace and saves its profile (if ``trace_on(profiler=True)``).

    Raises:
      ValueError: a default writer is set but neither ``step`` nor
        ``tf.summary.experimental.get_step()`` gives a step.
    """
    from dlframe.summary import writer as _writer
    if (_writer.STATE.writer is not None and step is None
            and experimental.get_step() is None):
        raise ValueError("No step set. Please specify one either through the `step` "
                         "argument or through tf.summary.experimental.set_step()")
    _stop_profiler(save=True)


__all__ = [
    "SummaryWriter",
    "audio",
    "create_file_writer",
    "create_noop_writer",
    "experimental",
    "flush",
    "graph",
    "histogram",
    "image",
    "record_if",
    "scalar",
    "should_record_summaries",
    "text",
    "trace_export",
    "trace_off",
    "trace_on",
    "write",
]
