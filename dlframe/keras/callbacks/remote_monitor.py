"""``RemoteMonitor``: POSTs each epoch's logs as JSON to an HTTP server."""

import json
import warnings

from dlframe.keras.callbacks.callback import Callback


def _plain(value):
    """A log value as something ``json`` can write (tensors and arrays as floats)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "numpy"):
        value = value.numpy()
    if hasattr(value, "item") and getattr(value, "size", 1) == 1:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


class RemoteMonitor(Callback):
    """Sends ``{'epoch': epoch, **logs}`` to ``root + path`` at every epoch end.

    Uses the standard library (``urllib``). A server that cannot be reached gives a
    warning, never an exception, so training goes on.

    Args:
      root: root URL of the server.
      path: path under ``root`` the events are posted to.
      field: the form field holding the JSON text (form posts only).
      headers: optional extra HTTP headers.
      send_as_json: post the JSON itself with content type ``application/json``
        instead of a form with one ``field``.
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/",
                 field="data", headers=None, send_as_json=False):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = dict(headers or {})
        self.send_as_json = send_as_json
        self.timeout = 10

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = _plain(value)
        import urllib.error  # imported on first send: urllib.request costs ~70 ms
        import urllib.parse
        import urllib.request

        headers = dict(self.headers)
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            form = {self.field: json.dumps(send)}
            body = urllib.parse.urlencode(form).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body,
                                         headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn("Could not reach RemoteMonitor root server at "
                          f"{self.root}", stacklevel=2)
