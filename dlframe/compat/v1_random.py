"""``tf.compat.v1.random``: TF1's seed helpers in front of ``tf.random``.

``get_seed`` gives the ``(graph_seed, op_seed)`` pair an op with ``op_seed``
uses, following the global seed of ``tf.random.set_seed``; ``set_random_seed`` is
TF1's name of ``tf.random.set_seed``. Both are also TF1 top-level names
(``tf.compat.v1.get_seed``).
"""

from dlframe.ops.random_kernels import get_seed, set_seed

set_random_seed = set_seed

__all__ = ["get_seed", "set_random_seed"]
