"""``dlframe.audio``: the tf.audio name table."""

from dlframe.ops import audio_ops as _audio
from dlframe.ops.names import public_op as _public

for _name in _audio.AUDIO_NAMES:
    globals()[_name] = _public(getattr(_audio, _name), f"audio.{_name}")
