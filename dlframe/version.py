"""``dlframe.version``: version strings in TensorFlow's format (``tf.version``).

Decision: ``VERSION`` (and ``dlframe.__version__``) is the TensorFlow API level dlframe
follows — the same 2.15 that ``dlframe.keras.__version__`` reports — because TF programs
gate on it (``assert version.parse(tf.__version__).release[0] >= 2``, as TF's own
tutorials do). dlframe's own release number is ``DLFRAME_VERSION`` (setup.py's); it also
appears in ``GIT_VERSION``.
"""

import platform as _platform

VERSION = "2.15.0"
DLFRAME_VERSION = "0.1.0"
# TF's GIT_VERSION is ``git describe`` of its build ("v2.16.1-0-g5bc9d26649c"); dlframe
# reports the API level and its own release instead of a commit.
GIT_VERSION = f"v{VERSION}-dlframe-{DLFRAME_VERSION}"
COMPILER_VERSION = _platform.python_compiler()
GRAPH_DEF_VERSION = 0
GRAPH_DEF_VERSION_MIN_CONSUMER = 0
GRAPH_DEF_VERSION_MIN_PRODUCER = 0

__all__ = [
           "COMPILER_VERSION",
           "DLFRAME_VERSION",
           "GIT_VERSION",
           "GRAPH_DEF_VERSION",
           "GRAPH_DEF_VERSION_MIN_CONSUMER",
           "GRAPH_DEF_VERSION_MIN_PRODUCER",
           "VERSION",
]
