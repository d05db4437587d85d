"""Eager vs `function` in dlframe, beside TensorFlow and PyTorch when installed:

(a) the seed LSTMCell(100) call on zeros [100, 100]: ms per call;
(b) the MNIST MLP custom-loop train step (batch 32, Adam, Dropout): ms per step;
    on a GPU also dlframe's compiled step with and without CUDA-graph replay;
(c) batch-1 predict-style calls of that MLP in a Python loop: samples/s.

dlframe runs in this process; TF/PyTorch in a subprocess of --peer-python.
Run: python bench/bench_function.py [--peer-python /path/to/python]
"""

import numpy as np
from peer_harness import per_call_ms


def keras_workloads(tf, label):
    out = {}
    cell = tf.keras.layers.LSTMCell(100)
    x = tf.zeros([100, 100])
    state = [tf.zeros([100, 100])] * 2
    cell_fn = tf.function(lambda inp, st: cell(inp, st))
    out[f"{label} eager: LSTMCell(100) ms"] = per_call_ms(lambda: cell(x, state), 300)
    out[f"{label} function: LSTMCell(100) ms"] = per_call_ms(lambda: cell_fn(x, state), 300)

    rng = np.random.default_rng(0)
    xb = tf.constant(rng.random((32, 28, 28)).astype("float32"))
    yb = tf.constant(rng.integers(0, 10, 32).astype("int64"))
    model = tf.keras.Sequential([tf.keras.Input((28, 28)), tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(128, activation="relu"),
                                 tf.keras.layers.Dropout(0.2), tf.keras.layers.Dense(10)])
    opt = tf.keras.optimizers.Adam()
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss
    compiled = tf.function(step)
    out[f"{label} eager: MLP train step ms"] = per_call_ms(lambda: step(xb, yb), 100)
    out[f"{label} function: MLP train step ms"] = per_call_ms(lambda: compiled(xb, yb), 300)
    if label == "dlframe" and tf.config.list_physical_devices("GPU"):
        out.update(_cuda_graph_rows(tf, label, compiled, xb, yb))

    one = tf.constant(rng.random((1, 28, 28)).astype("float32"))
    predict = tf.function(lambda v: model(v, training=False))
    out[f"{label} eager: batch-1 calls/s"] = 1e3 / per_call_ms(lambda: model(one), 300)
    out[f"{label} function: batch-1 calls/s"] = 1e3 / per_call_ms(lambda: predict(one), 1000)
    return out


def _cuda_graph_rows(tf, label, compiled, xb, yb):
    """dlframe on a GPU: the compiled MLP step (Dropout included) replayed as one
    CUDA graph and run op by op with the graph pass off
    (``tf.config.optimizer.set_experimental_options({"cuda_graphs": False})``),
    and whether the step was captured (1) or not (0)."""
    options = tf.config.optimizer
    rows = {}
    for enabled, name in ((True, "CUDA graph replay"), (False, "no CUDA graph")):
        options.set_experimental_options({"cuda_graphs": enabled})
        try:
            compiled(xb, yb).numpy()   # warm-up runs, capture (a sync per row)
            # each call waits for its loss (GPU work is asynchronous)
            rows[f"{label} function, {name}: MLP train step ms"] = per_call_ms(
                lambda: compiled(xb, yb).numpy(), 300)
        finally:
            options.set_experimental_options({"cuda_graphs": True})
    graph = compiled.get_concrete_function(xb, yb).graph
    rows[f"{label} function: MLP step captured (1/0)"] = float(
        getattr(graph, "_captured", None) is not None)
    return rows


def torch_workloads():
    import torch
    from torch import nn
    out = {}
    cell = nn.LSTMCell(100, 100)
    x = torch.zeros(100, 100)
    state = (torch.zeros(100, 100), torch.zeros(100, 100))
    with torch.no_grad():
        out["pytorch eager: LSTMCell(100) ms"] = per_call_ms(lambda: cell(x, state), 300)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(128, 10))
    rng = np.random.default_rng(0)
    xb = torch.from_numpy(rng.random((32, 28, 28)).astype("float32"))
    yb = torch.from_numpy(rng.integers(0, 10, 32))
    loss_fn = nn.CrossEntropyLoss()
    for fused, name in ((False, "eager"), (True, "eager fused Adam")):
        try:
            opt = torch.optim.Adam(model.parameters(), eps=1e-7, fused=fused or None)
        except (RuntimeError, TypeError):
            continue

        def step():
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        try:
            out[f"pytorch {name}: MLP train step ms"] = per_call_ms(step, 100)
        except RuntimeError:
            pass
    model.eval()
    one = torch.from_numpy(rng.random((1, 28, 28)).astype("float32"))
    with torch.no_grad():
        out["pytorch eager: batch-1 calls/s"] = 1e3 / per_call_ms(lambda: model(one), 1000)
    return out


if __name__ == "__main__":
    import peer_harness
    peer_harness.main(__file__, keras_workloads, torch_workloads)
