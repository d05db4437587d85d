"""`fit` speed, ms/step: the MNIST MLP (batch 32), a small CNN (batch 64) and a one-block
Transformer classifier (batch 32, 64 tokens) in dlframe, TensorFlow and PyTorch, same data
and hyperparameters, warm-up excluded.

dlframe runs in this process; TensorFlow and PyTorch run in a subprocess of the
interpreter given by --peer-python (default: this one) when they import there.

Run: python bench/bench_fit.py [--peer-python /path/to/python-with-tf-and-torch]
                               [--kinds mlp,cnn,transformer]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

STEPS = {"mlp": 300, "cnn": 40, "transformer": 60}
BATCH = {"mlp": 32, "cnn": 64, "transformer": 32}
VOCAB, SEQ, DIM, HEADS, FF = 2000, 64, 64, 4, 128


def data(kind):
    rng = np.random.default_rng(0)
    n = STEPS[kind] * BATCH[kind]
    if kind == "transformer":
        return (rng.integers(0, VOCAB, (n, SEQ)).astype("int32"),
                rng.integers(0, 2, n).astype("int64"))
    x = rng.random((n, 28, 28, 1) if kind == "cnn" else (n, 28, 28)).astype("float32")
    y = rng.integers(0, 10, n).astype("int64")
    return x, y


def keras_transformer(tf):
    """Token + position embeddings, one post-norm encoder block, pooled 2-way logits
    (the Keras text-classification-with-Transformer example's shape)."""
    keras = tf.keras
    layers = keras.layers

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.token_emb = layers.Embedding(VOCAB, DIM)
            self.pos_emb = layers.Embedding(SEQ, DIM)

        def call(self, x):
            positions = self.pos_emb(tf.range(start=0, limit=tf.shape(x)[-1], delta=1))
            return self.token_emb(x) + positions

    tokens = keras.Input((SEQ,), dtype="int32")
    x = TokenAndPositionEmbedding()(tokens)
    attn = layers.MultiHeadAttention(num_heads=HEADS, key_dim=DIM // HEADS)(x, x)
    x = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(0.1)(attn))
    ff = layers.Dense(DIM)(layers.Dense(FF, activation="relu")(x))
    x = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(0.1)(ff))
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(tokens, layers.Dense(2)(x))


def keras_model(tf, kind):
    keras = tf.keras
    layers = keras.layers
    if kind == "transformer":
        return keras_transformer(tf)
    if kind == "mlp":
        return keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                                 layers.Dense(128, activation="relu"), layers.Dropout(0.2),
                                 layers.Dense(10)])
    return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
                             layers.MaxPooling2D(), layers.Conv2D(64, 3, activation="relu"),
                             layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10)])


def time_keras(tf, kind, repeats=3):
    x, y = data(kind)
    model = keras_model(tf, kind)
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


def torch_transformer():
    """The PyTorch twin of `keras_transformer` (same sizes, eps and dropout)."""
    import torch
    from torch import nn

    class Transformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.token_emb = nn.Embedding(VOCAB, DIM)
            self.pos_emb = nn.Embedding(SEQ, DIM)
            self.attn = nn.MultiheadAttention(DIM, HEADS, batch_first=True)
            self.norm1 = nn.LayerNorm(DIM, eps=1e-6)
            self.norm2 = nn.LayerNorm(DIM, eps=1e-6)
            self.ff = nn.Sequential(nn.Linear(DIM, FF), nn.ReLU(), nn.Linear(FF, DIM))
            self.drop1, self.drop2 = nn.Dropout(0.1), nn.Dropout(0.1)
            self.head = nn.Linear(DIM, 2)

        def forward(self, tokens):
            positions = torch.arange(tokens.shape[1], device=tokens.device)
            x = self.token_emb(tokens) + self.pos_emb(positions)
            attn, _ = self.attn(x, x, x, need_weights=False)
            x = self.norm1(x + self.drop1(attn))
            x = self.norm2(x + self.drop2(self.ff(x)))
            return self.head(x.mean(dim=1))

    return Transformer()


def time_torch(kind, repeats=3, device="cpu"):
    import torch
    from torch import nn
    torch.set_num_threads(os.cpu_count() or 1)
    if device == "cuda" and not torch.cuda.is_available():
        device = "cpu"
    x, y = data(kind)
    if kind == "transformer":
        model = torch_transformer()
        x = x.astype("int64")
    elif kind == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2),
                              nn.Linear(128, 10))
    else:
        x = x.transpose(0, 3, 1, 2).copy()
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(64 * 5 * 5, 10))
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    b = BATCH[kind]

    def epoch(n_steps):
        for i in range(n_steps):
            opt.zero_grad()
            loss = loss_fn(model(xt[i * b:(i + 1) * b]), yt[i * b:(i + 1) * b])
            loss.backward()
            opt.step()
        if device == "cuda":
            torch.cuda.synchronize()
    epoch(10)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        epoch(STEPS[kind])
        times.append((time.perf_counter() - t0) / STEPS[kind] * 1e3)
    return statistics.median(times)


def peer_main(kinds, torch_device):
    out = {}
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
        out["tensorflow"] = {k: time_keras(tf, k) for k in kinds}
    except ImportError:
        pass
    try:
        out["pytorch"] = {k: time_torch(k, device=torch_device) for k in kinds}
    except ImportError:
        pass
    print(json.dumps(out))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer-python", default=sys.executable)
    parser.add_argument("--kinds", default=",".join(STEPS),
                        help="comma-separated workloads out of " + ", ".join(STEPS))
    parser.add_argument("--no-peers", action="store_true", help="dlframe figures only")
    parser.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--torch-device", default=None,
                        help="cpu or cuda (default: cuda when dlframe runs on a GPU)")
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = [k for k in kinds if k not in STEPS]
    if unknown:
        parser.error(f"--kinds: unknown workload(s) {unknown}; choose from {list(STEPS)}")
    if args.peer:
        return peer_main(kinds, args.torch_device or "cpu")
    import dlframe as tf
    on_gpu = bool(tf.config.list_physical_devices("GPU"))
    torch_device = args.torch_device or ("cuda" if on_gpu else "cpu")
    results = {"dlframe": {k: time_keras(tf, k) for k in kinds}}
    proc = None
    if not args.no_peers:
        try:
            proc = subprocess.run([args.peer_python, __file__, "--peer", "--kinds",
                                   ",".join(kinds), "--torch-device", torch_device], capture_output=True, text=True,
                                  check=False)
        except OSError as exc:   # no such interpreter: dlframe figures only
            print(f"peers skipped: {exc}")
    if proc is not None and proc.returncode == 0 and proc.stdout.strip():
        results.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    elif proc is not None:
        print(f"peers failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    print(f"device: {tf.config.list_logical_devices()[-1].name}; PyTorch on {torch_device}")
    print(f"{'framework':12s}" + "".join(f" {k + ' ms/step':>22s}" for k in kinds))
    for name, r in results.items():
        print(f"{name:12s}" + "".join(f" {r[k]:22.2f}" for k in kinds))


if __name__ == "__main__":
    main()
