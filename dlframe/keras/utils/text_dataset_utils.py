"""``keras.utils.text_dataset_from_directory``."""

from dlframe.io import image_ops as _io
from dlframe.keras.utils import dataset_utils
from dlframe.ops import strings as _strings


def text_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                class_names=None, batch_size=32, max_length=None,
                                shuffle=True, seed=None, validation_split=None,
                                subset=None, follow_links=False, verbose=True):
    """A ``tf.data.Dataset`` of the ``.txt`` files in ``directory`` (one subfolder per
    class), each file one string.

    Args:
      directory: the folder; with ``labels='inferred'`` its subfolders are the classes.
      labels: 'inferred', None (texts only) or a list of integer labels in the sorted
        order of the file paths.
      label_mode: 'int' (int32), 'categorical' (float32 one-hot), 'binary' (float32
        ``[1]``) or None.
      class_names: explicit class subfolders and their order.
      batch_size: batch size, or None for single texts.
      max_length: keep at most this many bytes of each text.
      shuffle, seed: shuffle the file list (and each epoch's order).
      validation_split, subset: reserve the last ``validation_split`` of the
        (shuffled) files for 'validation'; 'both' returns ``[train, validation]``.

    Returns:
      A dataset of string tensors (and labels) with ``class_names`` and ``file_paths``
      attributes.
    """
    def load(path):
        text = _io.read_file(path)
        if max_length is not None:
            text = _strings.substr(text, 0, max_length)
        return text

    return dataset_utils.datasets_from_directory(
        directory, labels, label_mode, class_names, (".txt",), load, batch_size, shuffle,
        seed, validation_split, subset, follow_links, verbose, "text files")
