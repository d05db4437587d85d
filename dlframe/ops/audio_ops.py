"""``tf.audio``: 16-bit PCM WAV (RIFF) encoding and decoding, written from the RIFF
layout: a ``RIFF`` header, a ``WAVE`` form with a ``fmt `` chunk and a ``data`` chunk
(other chunks are skipped). Samples are float32 in [-1, 1), scaled by 32768 as TF."""

import collections
import struct

from dlframe import backends
from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core import static_dims as _static_dims
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor, copy_to_device
from dlframe.errors import InvalidArgumentError

_PCM, _EXTENSIBLE = 1, 0xFFFE

# TF returns decode_wav's pair as a namedtuple named after its op
DecodeWav = collections.namedtuple("DecodeWav", ["audio", "sample_rate"])


def _bad(msg):
    return InvalidArgumentError(f"{msg} [Op:DecodeWav]")


def _chunks(data):
    """(chunk id, payload) of the RIFF/WAVE chunks of ``data``."""
    if len(data) < 12:
        raise _bad("Data too short when trying to read string")
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise _bad(f"Header mismatch: expected RIFF....WAVE, got {data[:12]!r}")
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        payload = data[pos + 8:pos + 8 + size]
        if len(payload) < size:
            raise _bad(f"Chunk {cid!r} is truncated: wanted {size} bytes, got "
                       f"{len(payload)}")
        yield cid, payload
        pos += 8 + size + (size & 1)   # chunks are word aligned


def _decode(data, desired_channels, desired_samples):
    fmt = samples = None
    for cid, payload in _chunks(data):
        if cid == b"fmt ":
            if len(payload) < 16:
                raise _bad("fmt chunk is too short")
            fmt = struct.unpack("<HHIIHH", payload[:16])
        elif cid == b"data" and fmt is not None:
            samples = payload
            break
    if fmt is None or samples is None:
        raise _bad("WAV data has no fmt chunk followed by a data chunk")
    audio_format, channels, rate, _, _, bits = fmt
    if audio_format not in (_PCM, _EXTENSIBLE):
        raise _bad(f"Only PCM (format 1) is supported, got format {audio_format}")
    if bits != 16:
        raise _bad(f"Can only read 16-bit WAV files, but received {bits}")
    if channels < 1:
        raise _bad(f"Bad number of channels: {channels}")
    frames = len(samples) // (2 * channels)
    pcm = np.frombuffer(samples[:frames * 2 * channels], dtype="<i2")
    audio = pcm.reshape(frames, channels).astype(np.float32) / 32768.0
    if desired_channels > 0:
        pick = np.minimum(np.arange(desired_channels), channels - 1)
        audio = audio[:, pick]
    if desired_samples >= 0:
        out = np.zeros((desired_samples, audio.shape[1]), np.float32)
        n = min(desired_samples, frames)
        out[:n] = audio[:n]
        audio = out
    return audio, rate


@primitive("DecodeWav", n_out=2)
def decode_wav_p(d, contents, *, desired_channels, desired_samples):
    data = d.to_numpy(contents).reshape(()).item()
    audio, rate = _decode(bytes(data), desired_channels, desired_samples)
    return d.asarray(np.ascontiguousarray(audio)), d.asarray(np.asarray(rate, np.int32))


decode_wav_p.value_shaped = True   # the file's header decides the sizes

def _encode(audio, rate):
    scaled = np.clip(audio.astype(np.float64) * 32768.0, -32768.0, 32767.0)
    pcm = (np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)).astype("<i2").tobytes()
    channels = audio.shape[1]
    fmt = struct.pack("<HHIIHH", _PCM, channels, rate, rate * channels * 2,
                      channels * 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + \
        struct.pack("<I", len(pcm)) + pcm
    return b"RIFF" + struct.pack("<I", len(body)) + body


@primitive("EncodeWav")
def encode_wav_p(d, audio, rate):
    host = d.to_numpy(audio)
    if host.ndim != 2:
        raise InvalidArgumentError(f"audio must be 2-dimensional [samples, channels], "
                                   f"got shape {list(host.shape)} [Op:EncodeWav]")
    out = np.empty((), dtype=object)
    out[()] = _encode(host, int(d.to_numpy(rate)))
    return out


def decode_wav(contents, desired_channels=-1, desired_samples=-1, name=None):
    """Decodes a 16-bit PCM WAV file.

    Args:
      contents: a scalar string Tensor with the file's bytes.
      desired_channels: channels to return (-1: as in the file); extra channels repeat
        the last one.
      desired_samples: samples to return (-1: all), zero padded or truncated.

    Returns:
      A ``DecodeWav(audio, sample_rate)`` namedtuple: float32 ``[samples, channels]``
      in [-1, 1) and an int32 scalar.

    Raises:
      InvalidArgumentError: not a RIFF/WAVE file, or not 16-bit PCM.
    """
    x = contents if isinstance(contents, Tensor) else \
        convert_to_tensor(contents, dtype=dtypes.string)
    if x.dtype != dtypes.string or x.ndim != 0:
        raise InvalidArgumentError(f"contents must be a scalar string, got "
                                   f"{x.dtype.name} of shape {list(x.shape)}")
    audio, rate = call(decode_wav_p, (x,), {"desired_channels": int(desired_channels),
                                            "desired_samples": int(desired_samples)})
    # TF's static shape: the file decides the sizes not asked for
    _static_dims.note_unknown_axes(audio, [axis for axis, n in enumerate(
        (desired_samples, desired_channels)) if int(n) < 0])
    return DecodeWav(audio, rate)


def encode_wav(audio, sample_rate, name=None):
    """Encodes float32 ``audio`` ``[samples, channels]`` (clipped to [-1, 1]) as a
    16-bit PCM WAV file (a scalar string Tensor)."""
    x = audio if isinstance(audio, Tensor) else \
        convert_to_tensor(audio, dtype=dtypes.float32)
    if x.dtype != dtypes.float32:
        raise InvalidArgumentError(f"audio must be float32, got {x.dtype.name}")
    rate = sample_rate if isinstance(sample_rate, Tensor) else \
        convert_to_tensor(sample_rate, dtype=dtypes.int32)
    if x.ndim != 2:
        raise InvalidArgumentError(f"audio must be 2-dimensional [samples, channels], "
                                   f"got shape {list(x.shape)}")
    cpu = backends.get_device("cpu:0")
    return call(encode_wav_p, (copy_to_device(x, cpu), copy_to_device(rate, cpu)))


AUDIO_NAMES = ["decode_wav", "encode_wav"]
__all__ = []
