"""``model.summary()``: Keras's text table of layers, output shapes and parameter counts."""

from dlframe.keras.utils import tree


def count_params(weights):
    total = 0
    for w in weights:
        n = 1
        for d in w.shape:
            n *= d
        total += n
    return total


def _size(n, bytes_per=4):
    size = float(n * bytes_per)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.2f} {unit}"
        size /= 1024


def _shape_text(layer):
    try:
        shape = layer.output_shape
    except (AttributeError, ValueError, RuntimeError):
        return "multiple"
    if type(layer).__name__ == "InputLayer":
        return str([shape])
    return str(shape)


def _is_sequential_like(model):
    if type(model).__name__ == "Sequential":
        return True
    if not getattr(model, "_is_graph_network", False):
        return True
    if len(model.inputs) > 1 or len(model.outputs) > 1:
        return False
    nodes = model._nodes_in_order
    seen = set()
    for node in nodes:
        if len(node.flat_inputs) > 1 or id(node.layer) in seen:
            return False
        seen.add(id(node.layer))
    return True


def _wrap(text, width):
    text = str(text)
    if width <= 1:
        return [text]
    return [text[i:i + width] for i in range(0, max(len(text), 1), width)] or [""]


def print_summary(model, line_length=None, positions=None, print_fn=None,
                  expand_nested=False, show_trainable=False):
    """Prints (through ``print_fn``, default print) the Keras-2 style summary table."""
    print_fn = print_fn or print
    sequential = _is_sequential_like(model)
    layers = model.layers
    if sequential:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.33, 0.55, 0.67, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if show_trainable:
        line_length += 11
        positions = [p * (line_length - 11) / line_length for p in positions] + [1.0]
        headers.append("Trainable")
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    def row(fields):
        cells = []
        start = 0
        for field, end in zip(fields, positions):
            cells.append(_wrap(field, end - start - (2 if not cells else 1)))
            start = end
        height = max(len(c) for c in cells)
        for i in range(height):
            line, start = "", 0
            for k, (cell, end) in enumerate(zip(cells, positions)):
                text = cell[i] if i < len(cell) else ""
                line += ((" " if k == 0 else "") + text).ljust(end - start)
                start = end
            print_fn(line)

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    row(headers)
    print_fn("=" * line_length)
    members = set()
    if not sequential:
        members = {id(n) for n in model._nodes_in_order}
    for i, layer in enumerate(layers):
        try:
            params = layer.count_params()
        except ValueError:
            params = 0
        fields = [f"{layer.name} ({type(layer).__name__})", _shape_text(layer), params]
        if not sequential:
            connections = []
            for node in layer._inbound_nodes:
                if id(node) not in members:
                    continue
                for kt in node.flat_inputs:
                    src, ni, ti = kt._keras_history
                    connections.append(f"{src.name}[{ni}][{ti}]")
            fields.append(connections[0] if connections else "[]")
            extra = connections[1:]
        else:
            extra = []
        if show_trainable:
            fields.append("Y" if layer.trainable else "N")
        row(fields)
        for conn in extra:
            row(["", "", "", conn] + ([""] if show_trainable else []))
        if i < len(layers) - 1:
            print_fn(" " * line_length)
    print_fn("=" * line_length)
    trainable = count_params(model.trainable_weights)
    non_trainable = count_params(model.non_trainable_weights)
    total = trainable + non_trainable
    print_fn(f"Total params: {total:,} ({_size(total)})")
    print_fn(f"Trainable params: {trainable:,} ({_size(trainable)})")
    print_fn(f"Non-trainable params: {non_trainable:,} ({_size(non_trainable)})")
    print_fn("_" * line_length)


_ = tree
