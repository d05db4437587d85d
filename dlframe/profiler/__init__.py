"""``tf.profiler``: the TensorFlow 2 profiler API (``tf.profiler.experimental``).

Profiling records every dlframe op dispatch and every ``Trace`` region and writes
them as a trace that TensorBoard's profile plugin shows (see
``dlframe.profiler.recorder``).
"""

from dlframe.profiler import experimental

__all__ = ["experimental"]
