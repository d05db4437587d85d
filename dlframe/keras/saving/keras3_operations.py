"""Operator layers of a functional model written as Keras 3 operation nodes.

``keras.ops.mean(x, axis=-1)`` or ``x + y`` on symbolic tensors makes a dlframe
``TFOpLambda``; Keras 3 files the same node as an operation
(``{'module': 'keras.src.ops.numpy', 'class_name': 'Mean', 'config': {'name',
'axis', ...}}``) whose constructor takes the static arguments and whose call takes
the tensors. Writing that form lets Keras 3 load the ``.keras`` file; dlframe reads
it back through ``keras3_config._operation_to_op_layer``. Nodes with no Keras 3
operation of the same signature stay ``TFOpLambda`` entries.
"""

import inspect

# operator layers (``x + y``, ``x[:, 0]``) and the keras.ops function they match
_OPERATORS = {
    "add": "add", "subtract": "subtract", "multiply": "multiply",
    "truediv": "true_divide", "floordiv": "floor_divide", "floormod": "mod",
    "pow": "power", "matmul": "matmul", "negative": "negative", "abs": "absolute",
    "less": "less", "less_equal": "less_equal", "greater": "greater",
    "greater_equal": "greater_equal", "getitem": "get_item",
}

# one dlframe function under two keras.ops names is recorded by the first; Keras 3
# files it under the name whose operation has the same meaning (its Fmax ignores NaN,
# its EmptyLike leaves memory uninitialized)
_CANONICAL = {"empty_like": "zeros_like", "empty": "zeros", "fmax": "maximum",
              "fmin": "minimum", "amax": "max", "amin": "min", "swish": "silu",
              "hard_swish": "hard_silu", "conj": "conjugate"}

# keras.ops functions with no Keras 3 operation class of the same signature (class
# named otherwise, different arguments) or that take Python callables
_UNMAPPED = frozenset(
    "allclose amax amin arange associative_scan bartlett batch_normalization "
    "bitwise_and bitwise_left_shift bitwise_or bitwise_right_shift bitwise_xor "
    "blackman cdist cond convert_to_numpy ctc_decode ctc_loss custom_gradient dtype "
    "einsum empty "
    "eye fft fft2 fori_loop full geomspace hamming hanning hard_swish identity ifft2 "
    "irfft is_tensor isin istft jvp kaiser layer_normalization left_shift linspace "
    "logspace map multi_hot ones psnr rfft right_shift rms_normalization scan "
    "searchsorted shape stft svd swish switch tri vectorize vectorized_map while_loop "
    "zeros".split())

# the call (tensor) arguments where they are not the first argument (x1 and x2 for
# binary functions): every other argument is a constructor argument
_CALL_ARGS = {
    "average": ("x", "weights"), "digitize": ("x", "bins"),
    "full_like": ("x", "fill_value"), "get_item": ("x", "key"),
    "isclose": ("x1", "x2", "rtol", "atol"), "nanpercentile": ("x", "q"),
    "nanquantile": ("x", "q"), "pad": ("x", "constant_values"),
    "percentile": ("x", "q"), "quantile": ("x", "q"),
    "select": ("condlist", "choicelist", "default"), "take": ("x", "indices"),
    "take_along_axis": ("x", "indices"), "where": ("condition", "x1", "x2"),
    "binary_crossentropy": ("target", "output"),
    "categorical_crossentropy": ("target", "output"),
    "sparse_categorical_crossentropy": ("target", "output"),
    "conv": ("inputs", "kernel"), "conv_transpose": ("inputs", "kernel"),
    "depthwise_conv": ("inputs", "kernel"),
    "separable_conv": ("inputs", "depthwise_kernel", "pointwise_kernel"),
    "dot_product_attention": ("query", "key", "value", "bias", "mask", "scale"),
    "polar": ("abs_", "angle"), "in_top_k": ("targets", "predictions"),
    "segment_min": ("data", "segment_ids"), "segment_max": ("data", "segment_ids"),
    "segment_prod": ("data", "segment_ids"), "segment_sum": ("data", "segment_ids"),
    "solve": ("a", "b"), "lstsq": ("a", "b"), "solve_triangular": ("a", "b"),
    "scatter": ("indices", "values"),
    "scatter_update": ("inputs", "indices", "updates"),
    "slice": ("inputs", "start_indices"),
    "slice_update": ("inputs", "start_indices", "updates"),
}
_NAMESPACES = ("numpy", "nn", "math", "core", "linalg")
_LINALG_FIRST = {"qr", "solve"}   # in keras.ops.math too, but classes of linalg


def _is_tensor_ref(value):
    if isinstance(value, dict):
        return value.get("class_name") == "__keras_tensor__" or any(
            _is_tensor_ref(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_is_tensor_ref(v) for v in value)
    return False


def _leaves(value):
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _constant(value):
    """A list of numbers among the call arguments (an array constant, JSON-written as
    nested lists) in Keras 3's ``__numpy__`` form; Keras 3 reads a bare list as a
    structure of tensors. A float array is taken as float32, Keras's floatx."""
    if not isinstance(value, list) or not value:
        return value
    leaves = _leaves(value)
    if not all(isinstance(v, (int, float)) for v in leaves):
        return value
    dtype = "bool" if all(isinstance(v, bool) for v in leaves) else (
        "float32" if any(isinstance(v, float) for v in leaves) else "int32")
    return {"class_name": "__numpy__", "config": {"value": value, "dtype": dtype}}


def _namespace(name):
    from dlframe.keras.ops._tables import namespace_names
    if name in _LINALG_FIRST:
        return "linalg"
    for namespace in _NAMESPACES:
        if name in namespace_names(namespace):
            return namespace
    return None


def _parameters(name):
    from dlframe.keras import ops
    try:
        params = inspect.signature(getattr(ops, name)).parameters.values()
    except (AttributeError, TypeError, ValueError):
        return None
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return None
    return [p.name for p in params]


def operation_entry(entry):
    """A functional model's ``TFOpLambda`` layer entry as a Keras 3 operation node,
    or the entry unchanged when Keras 3 has no matching operation."""
    config = entry.get("config")
    nodes = entry.get("inbound_nodes")
    if entry.get("class_name") != "TFOpLambda" or not isinstance(config, dict) or \
            not isinstance(nodes, list) or len(nodes) != 1 or \
            not isinstance(nodes[0], dict) or "args" not in nodes[0]:
        return entry
    function = str(config.get("function", ""))
    name = _OPERATORS.get(function)
    if name is None and function.startswith("keras.ops."):
        name = function[len("keras.ops."):]
    name = _CANONICAL.get(name, name)
    if not name or "." in name or name in _UNMAPPED:
        return entry
    namespace = _namespace(name) if name != "get_item" else "numpy"
    params = ["x", "key"] if name == "get_item" else _parameters(name)
    if namespace is None or params is None:
        return entry
    args, kwargs = list(nodes[0].get("args") or []), dict(nodes[0].get("kwargs") or {})
    if len(args) > len(params) or set(kwargs) - set(params):
        return entry
    bound = dict(zip(params, args))
    bound.update(kwargs)
    bound.update(config.get("op_kwargs") or {})
    call = _CALL_ARGS.get(name) or (("x1", "x2") if params[:2] == ["x1", "x2"]
                                    else tuple(params[:1]))
    static = {k: v for k, v in bound.items() if k not in call}
    if _is_tensor_ref(static):
        return entry
    call_args, call_kwargs = [], {}
    for param in call:
        if param not in bound:
            continue
        if call_kwargs or len(call_args) != call.index(param):
            call_kwargs[param] = _constant(bound[param])
        else:
            call_args.append(_constant(bound[param]))
    class_name = "".join(part.capitalize() for part in name.split("_"))
    out = {k: v for k, v in entry.items()
           if k not in ("module", "class_name", "config", "registered_name",
                        "inbound_nodes")}
    out.update({"module": f"keras.src.ops.{namespace}", "class_name": class_name,
                "config": {"name": config.get("name", entry.get("name")), **static},
                "registered_name": None,
                "inbound_nodes": [{"args": call_args, "kwargs": call_kwargs}]})
    return out


def operations_to_keras3(config):
    """``config`` (a Keras 3 model config, nested models included) with its
    operator layers written as Keras 3 operation nodes."""
    if isinstance(config, list):
        return [operations_to_keras3(v) for v in config]
    if not isinstance(config, dict):
        return config
    out = {k: operations_to_keras3(v) for k, v in config.items()}
    if isinstance(out.get("layers"), list) and "output_layers" in out:
        out["layers"] = [operation_entry(e) if isinstance(e, dict) else e
                         for e in out["layers"]]
    return out
