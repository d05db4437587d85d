"""``tf.tpu``: dlframe has no TPU runtime. ``tf.tpu.experimental.initialize_tpu_system``
is only reached after a ``TPUClusterResolver`` found a TPU (it never does here), so
these functions raise a clear NotImplementedError."""

from types import SimpleNamespace

from dlframe.distribute.cluster_resolver import (  # noqa: F401 - tf.config's names
    experimental_connect_to_cluster,
    experimental_connect_to_host,
    initialize_tpu_system,
    shutdown_tpu_system,
)

experimental = SimpleNamespace(initialize_tpu_system=initialize_tpu_system,
                               shutdown_tpu_system=shutdown_tpu_system)

__all__ = ["experimental"]
