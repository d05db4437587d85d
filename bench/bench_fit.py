"""`fit` speed, ms/step: the MNIST MLP (batch 32) and a small CNN (batch 64) in dlframe,
TensorFlow and PyTorch, same data and hyperparameters, warm-up excluded.

dlframe runs in this process; TensorFlow and PyTorch run in a subprocess of the
interpreter given by --peer-python (default: this one) when they import there.

Run: python bench/bench_fit.py [--peer-python /path/to/python-with-tf-and-torch]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

STEPS = {"mlp": 300, "cnn": 40}
BATCH = {"mlp": 32, "cnn": 64}


def data(kind):
    rng = np.random.default_rng(0)
    n = STEPS[kind] * BATCH[kind]
    x = rng.random((n, 28, 28, 1) if kind == "cnn" else (n, 28, 28)).astype("float32")
    y = rng.integers(0, 10, n).astype("int64")
    return x, y


def keras_model(keras, kind):
    layers = keras.layers
    if kind == "mlp":
        return keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                                 layers.Dense(128, activation="relu"), layers.Dropout(0.2),
                                 layers.Dense(10)])
    return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
                             layers.MaxPooling2D(), layers.Conv2D(64, 3, activation="relu"),
                             layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10)])


def time_keras(tf, kind, repeats=3):
    x, y = data(kind)
    model = keras_model(tf.keras, kind)
    model.compile(optimizer="adam",
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    b = BATCH[kind]
    model.fit(x[:b * 10], y[:b * 10], batch_size=b, epochs=1, verbose=0)  # warm-up/trace
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=b, epochs=1, verbose=0, shuffle=False)
        times.append((time.perf_counter() - t0) / STEPS[kind] * 1e3)
    return statistics.median(times)


def time_torch(kind, repeats=3):
    import torch
    from torch import nn
    torch.set_num_threads(os.cpu_count() or 1)
    x, y = data(kind)
    if kind == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2),
                              nn.Linear(128, 10))
    else:
        x = x.transpose(0, 3, 1, 2).copy()
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(64 * 5 * 5, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    b = BATCH[kind]

    def epoch(n_steps):
        for i in range(n_steps):
            opt.zero_grad()
            loss = loss_fn(model(xt[i * b:(i + 1) * b]), yt[i * b:(i + 1) * b])
            loss.backward()
            opt.step()
    epoch(10)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        epoch(STEPS[kind])
        times.append((time.perf_counter() - t0) / STEPS[kind] * 1e3)
    return statistics.median(times)


def peer_main():
    out = {}
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
        out["tensorflow"] = {k: time_keras(tf, k) for k in STEPS}
    except ImportError:
        pass
    try:
        out["pytorch"] = {k: time_torch(k) for k in STEPS}
    except ImportError:
        pass
    print(json.dumps(out))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer-python", default=sys.executable)
    parser.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        return peer_main()
    import dlframe as tf
    results = {"dlframe": {k: time_keras(tf, k) for k in STEPS}}
    try:
        proc = subprocess.run([args.peer_python, __file__, "--peer"], capture_output=True,
                              text=True)
    except OSError as exc:   # no such interpreter: dlframe figures only
        print(f"peers skipped: {exc}")
        proc = None
    if proc is not None and proc.returncode == 0 and proc.stdout.strip():
        results.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"device: {tf.config.list_logical_devices()[-1].name}")
    print(f"{'framework':12s} {'MLP ms/step':>12s} {'CNN ms/step':>12s}")
    for name, r in results.items():
        print(f"{name:12s} {r['mlp']:12.2f} {r['cnn']:12.2f}")


if __name__ == "__main__":
    main()
