"""``dlframe.version``: version strings in TensorFlow's format (``tf.version``).

Decision: these report dlframe's own version, not the TensorFlow version whose API
dlframe follows (that one is TF 2's, see DESIGN.md §1). A program branching on
``tf.version.VERSION`` to pick a TF API learns it runs on dlframe's numbering;
``dlframe.__version__`` is the same string.
"""

import platform as _platform

VERSION = "0.1.0"
# TF's GIT_VERSION is ``git describe`` of its build ("v2.16.1-0-g5bc9d26649c"); dlframe
# is not built from a tagged commit, so it reports the release tag it would have.
GIT_VERSION = f"v{VERSION}"
COMPILER_VERSION = _platform.python_compiler()
GRAPH_DEF_VERSION = 0
GRAPH_DEF_VERSION_MIN_CONSUMER = 0
GRAPH_DEF_VERSION_MIN_PRODUCER = 0

__all__ = [
           "COMPILER_VERSION",
           "GIT_VERSION",
           "GRAPH_DEF_VERSION",
           "GRAPH_DEF_VERSION_MIN_CONSUMER",
           "GRAPH_DEF_VERSION_MIN_PRODUCER",
           "VERSION",
]
