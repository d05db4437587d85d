"""The ``checkpoint`` state file (TensorFlow's text format) naming a directory's
checkpoints, and ``tf.train.latest_checkpoint``."""

import os
import re

from dlframe.train.checkpoint_io import _atomic_write, checkpoint_exists

_STATE_FILE = "checkpoint"


def _quote(path):
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _relative(directory, path):
    path = os.fspath(path)
    if os.path.dirname(os.path.abspath(path)) == os.path.abspath(directory):
        return os.path.basename(path)
    return path


def update_checkpoint_state(save_dir, model_checkpoint_path,
                            all_model_checkpoint_paths=None, latest_filename=None,
                            all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None):
    """Writes the ``checkpoint`` state file (TensorFlow's text format) in ``save_dir``."""
    paths = list(all_model_checkpoint_paths or [])
    if model_checkpoint_path not in paths:
        paths.append(model_checkpoint_path)
    lines = [f"model_checkpoint_path: {_quote(_relative(save_dir, model_checkpoint_path))}"]
    lines += [f"all_model_checkpoint_paths: {_quote(_relative(save_dir, p))}"
              for p in paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}"
              for t in all_model_checkpoint_timestamps or []]
    if last_preserved_timestamp is not None:
        lines.append(f"last_preserved_timestamp: {last_preserved_timestamp!r}")
    os.makedirs(save_dir, exist_ok=True)
    target = os.path.join(save_dir, latest_filename or _STATE_FILE)
    _atomic_write(target, ("\n".join(lines) + "\n").encode("utf-8"))


class CheckpointState:
    """The parsed ``checkpoint`` state file (absolute paths)."""

    def __init__(self, model_checkpoint_path, all_model_checkpoint_paths,
                 all_model_checkpoint_timestamps=(), last_preserved_timestamp=0.0):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps)
        self.last_preserved_timestamp = last_preserved_timestamp

    def __repr__(self):
        return (f"model_checkpoint_path: {self.model_checkpoint_path!r}\n"
                f"all_model_checkpoint_paths: {self.all_model_checkpoint_paths!r}")


_LINE = re.compile(r'^\s*(\w+)\s*:\s*(.*?)\s*$')


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The CheckpointState recorded in ``checkpoint_dir``, or None if there is none."""
    path = os.path.join(os.fspath(checkpoint_dir), latest_filename or _STATE_FILE)
    if not os.path.isfile(path):
        return None
    fields = {"model_checkpoint_path": [], "all_model_checkpoint_paths": [],
              "all_model_checkpoint_timestamps": [], "last_preserved_timestamp": []}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = _LINE.match(line)
            if not m or m.group(1) not in fields:
                continue
            raw = m.group(2)
            if raw.startswith('"'):
                value = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            else:
                value = float(raw)
            fields[m.group(1)].append(value)
    if not fields["model_checkpoint_path"]:
        return None

    def absolute(p):
        return p if os.path.isabs(p) else os.path.join(os.fspath(checkpoint_dir), p)
    last = fields["last_preserved_timestamp"]
    return CheckpointState(absolute(fields["model_checkpoint_path"][-1]),
                           [absolute(p) for p in fields["all_model_checkpoint_paths"]],
                           fields["all_model_checkpoint_timestamps"],
                           last[-1] if last else 0.0)


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint recorded in ``checkpoint_dir``, or None."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None or not checkpoint_exists(state.model_checkpoint_path):
        return None
    return state.model_checkpoint_path
