"""``dlframe.python``: the few private ``tensorflow.python`` paths TF2 scripts import.

``tensorflow.python.client.device_lib`` (listing devices) and
``tensorflow.python.keras`` (an alias of ``dlframe.keras``, resolved by
``dlframe.compat.aliases``). Everything else under TF's private tree is not offered.
"""

import dlframe.compat  # noqa: F401 - installs the python.keras alias finder
