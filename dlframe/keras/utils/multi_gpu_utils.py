"""``keras.utils.multi_gpu_model``: removed in TF 2.4; kept as a clear error."""


def multi_gpu_model(model, gpus=None, cpu_merge=True, cpu_relocation=False):
    """Removed in TensorFlow 2.4: raises an error pointing at ``MirroredStrategy``.

    Args:
      model: the model to replicate.
      gpus: the number of GPUs (an int >= 2) or a list of GPU ids.
      cpu_merge: unused.
      cpu_relocation: unused.

    Raises:
      ValueError: ``gpus`` asks for fewer than 2 GPUs (as Keras 2 did).
      NotImplementedError: always otherwise; build and compile the model inside
        ``tf.distribute.MirroredStrategy().scope()`` instead.
    """
    del model, cpu_merge, cpu_relocation
    count = len(gpus) if isinstance(gpus, (list, tuple)) else gpus
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
        raise ValueError(f"Argument `gpus` must be an int or a list of GPU ids. "
                         f"Received: gpus={gpus!r}")
    if count is not None and count <= 1:
        raise ValueError("For multi-gpu usage to be effective, call `multi_gpu_model` "
                         f"with `gpus >= 2`. Received: gpus={gpus!r}")
    raise NotImplementedError(
        "`tf.keras.utils.multi_gpu_model` was removed in TensorFlow 2.4. Use "
        "tf.distribute.MirroredStrategy instead: create and compile the model inside "
        "`with tf.distribute.MirroredStrategy().scope():`, then call `fit` as usual.")
