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


def trace_on(graph=True, profiler=False, profiler_outdir=None):
    """Accepted for compatibility; dlframe records no graph or profile traces."""


def trace_off():
    """Accepted for compatibility (see ``trace_on``)."""


def trace_export(name, step=None, profiler_outdir=None):
    """Accepted for compatibility (see ``trace_on``); writes nothing."""


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
