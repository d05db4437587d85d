"""``keras.utils.plot_model`` / ``model_to_dot`` through pydot (optional dependency)."""

import os


def _pydot():
    try:
        import pydot
    except ImportError:
        raise ImportError("You must install pydot (`pip install pydot`) and install "
                          "graphviz (see instructions at "
                          "https://graphviz.gitlab.io/download/) for `plot_model` to "
                          "work.") from None
    return pydot


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir="TB", expand_nested=False, dpi=96, subgraph=False,
                 show_layer_activations=False, show_trainable=False, **kwargs):
    """A ``pydot.Dot`` graph of the model's layers and their connections."""
    pydot = _pydot()
    dot = pydot.Dot()
    dot.set("rankdir", rankdir)
    dot.set("concentrate", True)
    dot.set("dpi", dpi)
    dot.set_node_defaults(shape="record")
    layers = model.layers
    graph = getattr(model, "_is_graph_network", False)
    if graph and type(model).__name__ == "Sequential" and model._input_layer is not None:
        layers = [model._input_layer] + layers
    for layer in layers:
        label = type(layer).__name__
        if show_layer_names:
            label = f"{layer.name}: {label}"
        if show_layer_activations and hasattr(layer, "activation"):
            label += f" ({getattr(layer.activation, '__name__', layer.activation)})"
        if show_dtype:
            label += f"|{layer.dtype}"
        if show_shapes:
            try:
                out = layer.output_shape
            except AttributeError:
                out = "multiple"
            label += f"|output: {out}"
        if show_trainable:
            label += f"|Trainable: {'T' if layer.trainable else 'F'}"
        dot.add_node(pydot.Node(str(id(layer)), label=label))
    if graph:
        members = {id(n) for n in model._nodes_in_order}
        for layer in layers:
            for node in layer._inbound_nodes:
                if id(node) not in members:
                    continue
                for kt in node.flat_inputs:
                    src = kt._keras_history[0]
                    dot.add_edge(pydot.Edge(str(id(src)), str(id(layer))))
    return dot


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=True, rankdir="TB", expand_nested=False, dpi=96,
               show_layer_activations=False, show_trainable=False, **kwargs):
    """Writes a picture of the model graph to ``to_file`` (needs pydot and graphviz)."""
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable)
    _, ext = os.path.splitext(to_file)
    ext = ext[1:] if ext else "png"
    try:
        dot.write(to_file, format=ext)
    except (FileNotFoundError, OSError) as e:
        raise ImportError("plot_model needs the graphviz `dot` program on PATH (see "
                          "https://graphviz.gitlab.io/download/).") from e
