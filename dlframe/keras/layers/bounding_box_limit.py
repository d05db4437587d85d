"""Keras 3's ``MaxNumBoundingBoxes``: gives every image exactly ``max_number``
bounding boxes, truncating the extra ones and padding with ``fill_value``."""

from dlframe.core.tensor import convert_to_tensor
from dlframe.keras.engine.base_layer import Layer
from dlframe.ops import array as _array
from dlframe.ops import math as _math

_BOX_FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy",
                "rel_yxyx", "rel_xywh", "rel_center_xywh")


def _cut_or_pad(values, axis, max_number, fill_value):
    count = values.shape[axis]
    if count is None:
        raise ValueError("MaxNumBoundingBoxes needs a known number of boxes. Received "
                         f"shape {values.shape}")
    if count > max_number:
        index = [slice(None)] * len(values.shape)
        index[axis] = slice(0, max_number)
        return values[tuple(index)]
    if count < max_number:
        paddings = [[0, 0] for _ in values.shape]
        paddings[axis] = [0, max_number - count]
        return _array.pad(values, paddings,
                          constant_values=_math.cast(fill_value, values.dtype))
    return values


class MaxNumBoundingBoxes(Layer):
    """Ensures every image has ``max_number`` bounding boxes.

    Called on ``{"images": ..., "bounding_boxes": {"boxes": [B, N, 4],
    "labels": [B, N]}}`` it returns the same dict with boxes and labels cut to
    (when ``N > max_number``) or padded with ``fill_value`` up to ``max_number``
    boxes. Images pass through unchanged, in training and inference alike.

    Args:
      max_number: the number of boxes per image in the output.
      fill_value: the padding value of boxes and labels (default -1).
      bounding_box_format: the boxes' format (e.g. 'xyxy'); as in Keras it must be
        given when the inputs hold bounding boxes.
    """

    def __init__(self, max_number, fill_value=-1, bounding_box_format=None, **kwargs):
        kwargs.pop("data_format", None)
        super().__init__(**kwargs)
        if isinstance(max_number, bool) or not isinstance(max_number, int) or \
                max_number < 1:
            raise ValueError("`max_number` must be a positive integer. Received: "
                             f"max_number={max_number!r}")
        if bounding_box_format is not None and bounding_box_format not in _BOX_FORMATS:
            raise ValueError(f"`bounding_box_format` must be one of {_BOX_FORMATS}. "
                             f"Received: bounding_box_format={bounding_box_format!r}")
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)
        self.bounding_box_format = bounding_box_format
        self.data_format = "channels_last"

    def call(self, inputs, training=None):
        if not isinstance(inputs, dict):
            return inputs
        if "images" not in inputs:
            raise KeyError("MaxNumBoundingBoxes expects a dict with an 'images' key. "
                           f"Received keys: {sorted(inputs)}")
        outputs = dict(inputs)
        boxes_dict = inputs.get("bounding_boxes")
        if boxes_dict is None:
            return outputs
        if self.bounding_box_format is None:
            raise ValueError("You passed an input with a 'bounding_boxes' key, but you "
                             "didn't specify a bounding box format. Pass a "
                             "`bounding_box_format` argument to your "
                             "MaxNumBoundingBoxes layer, e.g. "
                             "`bounding_box_format='xyxy'`.")
        boxes = convert_to_tensor(boxes_dict["boxes"])
        labels = convert_to_tensor(boxes_dict["labels"])
        if boxes.shape[-1] != 4 or len(boxes.shape) != len(labels.shape) + 1:
            raise ValueError("`bounding_boxes['boxes']` must have shape [..., N, 4] "
                             "and `bounding_boxes['labels']` shape [..., N]. "
                             f"Received: boxes {boxes.shape}, labels {labels.shape}")
        fitted = dict(boxes_dict)
        fitted["boxes"] = _cut_or_pad(boxes, len(boxes.shape) - 2, self.max_number,
                                      self.fill_value)
        fitted["labels"] = _cut_or_pad(labels, len(labels.shape) - 1, self.max_number,
                                       self.fill_value)
        outputs["bounding_boxes"] = fitted
        return outputs

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, dict) and "bounding_boxes" in input_shape:
            shapes = dict(input_shape["bounding_boxes"])
            extra = set(shapes) - {"boxes", "labels"}
            if extra:
                raise KeyError(f"There are unsupported keys in `bounding_boxes`: "
                               f"{sorted(extra)}. Only `boxes` and `labels` are "
                               "supported.")
            for key, axis in (("boxes", -2), ("labels", -1)):
                shape = list(shapes[key])
                shape[axis] = self.max_number
                shapes[key] = shape
            return {**input_shape, "bounding_boxes": shapes}
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_number": self.max_number, "fill_value": self.fill_value,
                       "bounding_box_format": self.bounding_box_format,
                       "data_format": self.data_format})
        return config


__all__ = ["MaxNumBoundingBoxes"]
