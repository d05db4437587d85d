"""``tf.estimator.RunConfig``: where and how often an Estimator saves and logs."""

import copy
import os


def _check_positive(name, value, allow_zero=False):
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or \
            value < (0 if allow_zero else 1):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be an int {bound}, given: {value!r}")
    return value


class RunConfig:
    """Run configuration of an Estimator.

    Args:
      model_dir: directory of checkpoints (the Estimator's ``model_dir`` wins if only
        that is set; both set and different is an error).
      tf_random_seed: seed set (``tf.random.set_seed``) before each train, evaluate
        or predict call.
      save_summary_steps: kept for compatibility (dlframe writes no summaries).
      save_checkpoints_steps: save a checkpoint every this many steps; with neither
        this nor ``save_checkpoints_secs`` given, every 600 seconds.
      save_checkpoints_secs: save a checkpoint every this many seconds.
      session_config: accepted and ignored (there are no sessions).
      keep_checkpoint_max: how many recent checkpoints to keep (None or 0: all).
      keep_checkpoint_every_n_hours: accepted for compatibility.
      log_step_count_steps: log the loss and steps/sec every this many steps.
      train_distribute, device_fn, protocol, eval_distribute,
      experimental_distribute, experimental_max_worker_delay_secs,
      session_creation_timeout_secs, checkpoint_save_graph_def: accepted for
        compatibility.

    Raises:
      ValueError: when both ``save_checkpoints_steps`` and ``save_checkpoints_secs``
        are given, or a count is not a positive int.
    """

    _DEFAULT_SECS = 600

    def __init__(self, model_dir=None, tf_random_seed=None, save_summary_steps=100,
                 save_checkpoints_steps=None, save_checkpoints_secs=_DEFAULT_SECS,
                 session_config=None, keep_checkpoint_max=5,
                 keep_checkpoint_every_n_hours=10000, log_step_count_steps=100,
                 train_distribute=None, device_fn=None, protocol=None,
                 eval_distribute=None, experimental_distribute=None,
                 experimental_max_worker_delay_secs=None,
                 session_creation_timeout_secs=7200, checkpoint_save_graph_def=True):
        if save_checkpoints_steps is not None and \
                save_checkpoints_secs not in (None, self._DEFAULT_SECS):
            raise ValueError("Can not provide both save_checkpoints_steps and "
                             "save_checkpoints_secs.")
        if save_checkpoints_steps is not None:
            save_checkpoints_secs = None
        self._model_dir = os.fspath(model_dir) if model_dir is not None else None
        self._tf_random_seed = tf_random_seed
        self._save_summary_steps = save_summary_steps
        self._save_checkpoints_steps = _check_positive(
            "save_checkpoints_steps", save_checkpoints_steps)
        self._save_checkpoints_secs = save_checkpoints_secs
        self._session_config = session_config
        self._keep_checkpoint_max = _check_positive(
            "keep_checkpoint_max", keep_checkpoint_max, allow_zero=True)
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._log_step_count_steps = _check_positive(
            "log_step_count_steps", log_step_count_steps)
        self._train_distribute = train_distribute
        self._eval_distribute = eval_distribute
        self._device_fn = device_fn
        self._protocol = protocol

    def replace(self, **kwargs):
        """A copy with the given properties changed (``model_dir=...`` etc.)."""
        new = copy.copy(self)
        for key, value in kwargs.items():
            if not hasattr(new, "_" + key):
                raise ValueError(f"RunConfig.replace: unknown property {key!r}")
            setattr(new, "_" + key, value)
        if kwargs.get("save_checkpoints_steps") is not None:
            new._save_checkpoints_secs = None
        return new

    model_dir = property(lambda self: self._model_dir)
    tf_random_seed = property(lambda self: self._tf_random_seed)
    save_summary_steps = property(lambda self: self._save_summary_steps)
    save_checkpoints_steps = property(lambda self: self._save_checkpoints_steps)
    save_checkpoints_secs = property(lambda self: self._save_checkpoints_secs)
    session_config = property(lambda self: self._session_config)
    keep_checkpoint_max = property(lambda self: self._keep_checkpoint_max)
    keep_checkpoint_every_n_hours = property(
        lambda self: self._keep_checkpoint_every_n_hours)
    log_step_count_steps = property(lambda self: self._log_step_count_steps)
    train_distribute = property(lambda self: self._train_distribute)
    eval_distribute = property(lambda self: self._eval_distribute)
    device_fn = property(lambda self: self._device_fn)
    protocol = property(lambda self: self._protocol)
    is_chief = property(lambda self: True)
    master = property(lambda self: "")
    num_ps_replicas = property(lambda self: 0)
    num_worker_replicas = property(lambda self: 1)
    task_id = property(lambda self: 0)
    task_type = property(lambda self: "worker")
    cluster_spec = property(lambda self: None)
    global_id_in_cluster = property(lambda self: 0)
    evaluation_master = property(lambda self: "")
    service = property(lambda self: None)

    def __repr__(self):
        keys = ("model_dir", "tf_random_seed", "save_checkpoints_steps",
                "save_checkpoints_secs", "keep_checkpoint_max", "log_step_count_steps")
        body = ", ".join(f"{k}={getattr(self, k)!r}" for k in keys)
        return f"RunConfig({body})"
