"""``model.summary()``: Keras's text table of layers, output shapes and parameter counts."""


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
    if not layer.built:   # Keras 3 summarizes unbuilt layers with "?"
        return "?"
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


_BREAKS = ("),", "},", "],", "',")


def _take(text, width):
    """The part of ``text`` that fits ``width``, cut after a '),'/'],'/"'," (how Keras
    2 wraps shapes and connection lists onto several lines)."""
    piece = text[:max(width, 0)]
    cuts = [piece.find(b) + len(b) for b in _BREAKS if piece.find(b) >= 0]
    return piece[:min(cuts)] if cuts else piece


def _table_printer(print_fn, positions, line_length):
    """``row(fields, level)``: prints one table row; ``level`` nested-model boxes
    (``|`` on both sides) enclose it, as Keras 2 prints ``expand_nested``."""
    last = len(positions) - 1

    def row(fields, level=0):
        left = [str(f) for f in fields]
        while any(left):
            line = ""
            for col, text in enumerate(left):
                start = positions[col - 1] if col else 0
                gap = 0 if col == last else 2
                width = positions[col] - start - gap - (0 if col == last else 1)
                width -= level if col == 0 else 0
                piece = _take(text, width)
                left[col] = text[len(piece):]
                if col == 0:
                    line += "|" * level + " "
                line += piece + " " * gap
                end = positions[col] - (level if level and col == last else 0)
                line += " " * (end - len(line))
            print_fn(line + "|" * level)

    def rule(char, level=0):
        print_fn("|" * level + char * (line_length - 2 * level) + "|" * level)

    return row, rule


def _connections(layer, members):
    out = []
    for node in layer._inbound_nodes:
        if id(node) not in members:
            continue
        for kt in node.flat_inputs:
            src, ni, ti = kt._keras_history
            out.append(f"{src.name}[{ni}][{ti}]")
    return out


def _layer_slice(layers, layer_range):
    if layer_range is None:
        return layers
    if len(layer_range) != 2:
        raise ValueError("layer_range must be a list or tuple of length 2. Received: "
                         f"layer_range = {layer_range} of length {len(layer_range)}")
    names = [layer.name for layer in layers]
    for name in layer_range:
        if name not in names:
            raise ValueError(f"Passed layer_names {layer_range} do not match the layer "
                             f"names in the model: {names}")
    return layers[names.index(layer_range[0]):names.index(layer_range[1]) + 1]


def print_summary(model, line_length=None, positions=None, print_fn=None,
                  expand_nested=False, show_trainable=False, layer_range=None):
    """Prints (through ``print_fn``, default print) the Keras 2 summary table.

    Args:
      model: a Model (Keras 3 also summarizes an unbuilt one: shapes "?",
        parameter counts 0).
      line_length: total width (65 for sequential-like models, else 98).
      positions: where each column ends, as fractions of the width or as columns.
      print_fn: called with each line (default ``print``).
      expand_nested: also list the layers of nested models, boxed in ``|``.
      show_trainable: add a "Trainable" column (Y/N).
      layer_range: ``[first_name, last_name]`` of the layers to list.
    """
    print_fn = print_fn or print
    sequential = _is_sequential_like(model)
    if sequential:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.3, 0.6, 0.7, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    if show_trainable:
        line_length += 11
        positions = list(positions) + [line_length]
        headers.append("Trainable")
    row, rule = _table_printer(print_fn, positions, line_length)
    members = None if sequential else {id(n) for n in model._nodes_in_order}

    def print_layer(layer, level=0, closes_box=False):
        try:
            params = layer.count_params() if layer.built else 0
        except ValueError:
            params = 0
        fields = [f"{layer.name} ({type(layer).__name__})", _shape_text(layer), params]
        if not sequential:
            # a nested model's own layers are not nodes of this graph: Keras lists []
            fields.append(_connections(layer, members) if level == 0 else [])
        if show_trainable:
            fields.append("Y" if layer.trainable else "N")
        row(fields, level)
        inner = getattr(layer, "layers", None) if expand_nested else None
        if inner:
            rule("\u00af", level + 1)
            for k, sub in enumerate(inner):
                print_layer(sub, level + 1, k == len(inner) - 1)
            rule("\u00af", level)
        if not closes_box:
            rule(" ", level)

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    row(headers)
    print_fn("=" * line_length)
    for layer in _layer_slice(model.layers, layer_range):
        print_layer(layer)
    print_fn("=" * line_length)
    trainable = count_params(model.trainable_weights)
    non_trainable = count_params(model.non_trainable_weights)
    total = trainable + non_trainable
    print_fn(f"Total params: {total:,} ({_size(total)})")
    print_fn(f"Trainable params: {trainable:,} ({_size(trainable)})")
    print_fn(f"Non-trainable params: {non_trainable:,} ({_size(non_trainable)})")
    print_fn("_" * line_length)

