"""``tf.DeviceSpec``: a parsed device name (job, replica, task, device type, index)."""

_FIELDS = ("job", "replica", "task", "device_type", "device_index")


def _int_or_none(value):
    return None if value is None else int(value)


def _device_type(value):
    if value is None:
        return None
    return value.upper() if value.lower() in ("cpu", "gpu") else value


class DeviceSpec:
    """An immutable description of a (possibly partial) device location.

    Args:
      job: job name ('worker'), or None.
      replica: replica index, or None.
      task: task index, or None.
      device_type: 'CPU', 'GPU' ('cpu'/'gpu' are upper-cased), or another name.
      device_index: device ordinal, or None for any device of the type.
    """

    __slots__ = ("_device_index", "_device_type", "_job", "_replica", "_task")

    def __init__(self, job=None, replica=None, task=None, device_type=None,
                 device_index=None):
        self._job = None if job is None else str(job)
        self._replica = _int_or_none(replica)
        self._task = _int_or_none(task)
        self._device_type = _device_type(device_type)
        self._device_index = _int_or_none(device_index)

    job = property(lambda self: self._job)
    replica = property(lambda self: self._replica)
    task = property(lambda self: self._task)
    device_type = property(lambda self: self._device_type)
    device_index = property(lambda self: self._device_index)

    @classmethod
    def from_string(cls, spec):
        """Parses '/job:w/replica:0/task:1/device:GPU:3' (any part may be missing;
        'GPU:0' and '/cpu:*' are accepted too).

        Raises:
          ValueError: for an unknown attribute or two device types.
        """
        return cls(**_parse(spec))

    def parse_from_string(self, spec):
        """A new DeviceSpec parsed from ``spec`` (this one is unchanged)."""
        return self.from_string(spec)

    def to_string(self):
        """The canonical name, e.g. '/job:w/task:1/device:GPU:3' ('' when empty)."""
        out = ""
        for field in ("job", "replica", "task"):
            value = getattr(self, field)
            if value is not None:
                out += f"/{field}:{value}"
        if self._device_type is not None:
            index = "*" if self._device_index is None else self._device_index
            out += f"/device:{self._device_type}:{index}"
        return out

    def replace(self, **kwargs):
        """A copy with the given fields replaced (None clears a field)."""
        unknown = set(kwargs) - set(_FIELDS)
        if unknown:
            raise TypeError(f"DeviceSpec.replace() got unexpected keyword argument(s) "
                            f"{sorted(unknown)}")
        fields = {f: getattr(self, f) for f in _FIELDS}
        fields.update(kwargs)
        return DeviceSpec(**fields)

    def make_merged_spec(self, dev):
        """A copy where the fields that ``dev`` sets override this spec's."""
        return self.replace(**{f: getattr(dev, f) for f in _FIELDS
                               if getattr(dev, f) is not None})

    def __eq__(self, other):
        return isinstance(other, DeviceSpec) and self.to_string() == other.to_string()

    def __hash__(self):
        return hash(self.to_string())

    def __repr__(self):
        inner = ", ".join(f"{f}={getattr(self, f)}" for f in _FIELDS)
        return f"<DeviceSpec({inner})>"


def _parse(spec):
    fields = {}
    for part in spec.split("/"):
        if not part:
            continue
        pieces = part.split(":")
        key = pieces[0].lower()
        if key in ("job", "replica", "task") and len(pieces) == 2:
            fields[key] = pieces[1] if key == "job" else int(pieces[1])
            continue
        if key == "device" and len(pieces) in (2, 3):
            pieces = pieces[1:]
        elif key not in ("cpu", "gpu") or len(pieces) > 2:
            raise ValueError(f"Unknown attribute '{pieces[0]}' is encountered while "
                             f"parsing the device spec: '{spec}'.")
        if "device_type" in fields:
            raise ValueError(f"Multiple device types are not allowed while parsing the "
                             f"device spec: {spec}.")
        fields["device_type"] = pieces[0]
        if len(pieces) == 2 and pieces[1] != "*":
            fields["device_index"] = int(pieces[1])
    return fields
