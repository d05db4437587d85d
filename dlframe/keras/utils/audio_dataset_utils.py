"""``keras.utils.audio_dataset_from_directory``: WAV files in class subfolders."""

from dlframe.io import image_ops as _io
from dlframe.keras.utils import dataset_utils
from dlframe.ops import audio_ops as _audio

_FORMATS = (".wav",)


def _check_args(sampling_rate, output_sequence_length, ragged):
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int):
            raise ValueError("`sampling_rate` should have an integer value. Received: "
                             f"sampling_rate={sampling_rate!r}")
        if sampling_rate <= 0:
            raise ValueError("`sampling_rate` should be higher than 0. Received: "
                             f"sampling_rate={sampling_rate}")
        # Keras resamples with tensorflow-io; dlframe has no resampler to match it
        raise ImportError("To use the argument `sampling_rate`, you should install "
                          "tensorflow_io. You can install it via `pip install "
                          "tensorflow-io`. (dlframe does not resample audio: resample "
                          "the files beforehand.)")
    if output_sequence_length is not None and (
            not isinstance(output_sequence_length, int) or output_sequence_length < 0):
        raise ValueError("`output_sequence_length` should be a non-negative integer. "
                         f"Received: output_sequence_length={output_sequence_length!r}")
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")


def _batched(ds, batch_size, output_sequence_length, ragged, labelled):
    """Pads (or ragged-batches) the ``[samples, channels]`` waveforms of ``ds``; a
    single waveform is padded too when ``output_sequence_length`` is set (Keras)."""
    if batch_size is None and output_sequence_length is None:
        return ds
    if ragged:
        return ds.ragged_batch(batch_size)
    shapes = [output_sequence_length, None]
    if labelled:
        shapes = (shapes, list(ds.element_spec[1].shape))
    if batch_size is None:
        return ds.padded_batch(1, padded_shapes=shapes).unbatch()
    return ds.padded_batch(batch_size, padded_shapes=shapes)


def audio_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, batch_size=32, sampling_rate=None,
                                 output_sequence_length=None, ragged=False, shuffle=True,
                                 seed=None, validation_split=None, subset=None,
                                 follow_links=False, verbose=True):
    """A ``tf.data.Dataset`` of the ``.wav`` files (16-bit PCM) in ``directory``.

    With ``labels='inferred'`` each subfolder of ``directory`` is a class (in
    alphanumeric order, or the order of ``class_names``). Each waveform is float32
    ``[samples, channels]``; a batch pads its waveforms with zeros to the longest
    one, or to ``output_sequence_length``.

    Args:
      directory: the folder.
      labels: 'inferred', None (waveforms only) or a list of integer labels in the
        sorted order of the file paths.
      label_mode: 'int' (int32), 'categorical' (float32 one-hot), 'binary' (float32
        ``[1]``) or None.
      class_names: explicit class subfolders and their order.
      batch_size: batch size, or None for single waveforms.
      sampling_rate: resampling rate; Keras needs tensorflow-io for it, and so it
        raises ImportError here.
      output_sequence_length: truncate (and pad) every waveform to this many samples.
      ragged: batches of waveforms as RaggedTensors instead of padding them.
      shuffle, seed: shuffle the file list (and each epoch's order).
      validation_split, subset: reserve the last ``validation_split`` of the
        (shuffled) files for 'validation'; 'both' returns ``[train, validation]``.
      follow_links: follow symbolic links to subfolders.
      verbose: print how many files were found.

    Returns:
      A dataset of ``(audio, labels)`` (or of audio) with a ``class_names``
      attribute; a list of two for ``subset='both'``.

    Raises:
      ValueError: a bad argument value (named with the received value), or no
        ``.wav`` files found.
      ImportError: ``sampling_rate`` is set.
    """
    _check_args(sampling_rate, output_sequence_length, ragged)

    def load(path):
        audio, _ = _audio.decode_wav(_io.read_file(path))
        if output_sequence_length is not None:
            audio = audio[:output_sequence_length, :]
        return audio

    found = dataset_utils.datasets_from_directory(
        directory, labels, label_mode, class_names, _FORMATS, load, None, shuffle,
        seed, validation_split, subset, follow_links, verbose, "audio files")
    labelled = labels is not None and label_mode is not None
    out = []
    for ds in (found if subset == "both" else [found]):
        batched = _batched(ds, batch_size, output_sequence_length, ragged, labelled)
        batched.class_names, batched.file_paths = ds.class_names, ds.file_paths
        out.append(batched)
    return out if subset == "both" else out[0]
