"""Times conv2d and max_pool2d forward and forward+backward for the small Keras CNN.

The CNN: Conv2D(32, 3) - MaxPool - Conv2D(64, 3) - MaxPool - Flatten - Dense(10) on
28x28x1 inputs, batch 64 (channels_last, VALID convolutions). Prints medians in ms
for dlframe and, when importable, TensorFlow side by side.

``--kernels`` times instead the array kernels that the compiled ``fit`` step of
that CNN runs (fused conv+bias+ReLU, filter gradient from the kept patches, input
gradient, max pool, ReLU-fused max-pool gradient), dlframe only, in process time
on one BLAS thread: on a machine that other jobs keep busy, wall-clock figures of
the whole step swing 2-4x, these far less.

Usage: python bench/bench_conv.py [--repeats N] [--threads T] [--kernels]
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

LAYERS = [  # name, input shape, filter shape
    ("conv1 28x28x1->32", (64, 28, 28, 1), (3, 3, 1, 32)),
    ("conv2 13x13x32->64", (64, 13, 13, 32), (3, 3, 32, 64)),
]
POOLS = [("pool1 26x26x32", (64, 26, 26, 32)), ("pool2 11x11x64", (64, 11, 11, 64))]


def time_ms(fn, repeats):
    """(median, min) wall time in ms; the min is the cost without other load."""
    fn()
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times)), 1e3 * float(np.min(times))


def workloads(tf):
    """(name, forward fn, forward+backward fn) per workload for module ``tf``."""
    rng = np.random.default_rng(0)
    out = []
    for name, xshape, wshape in LAYERS:
        x = tf.constant(rng.standard_normal(xshape).astype(np.float32))
        w = tf.Variable(rng.standard_normal(wshape).astype(np.float32) * 0.1)

        def fwd(x=x, w=w):
            return tf.nn.conv2d(x, w, 1, "VALID")

        need_dx = name.startswith("conv2")  # conv1's input is the data

        def step(x=x, w=w, need_dx=need_dx):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.nn.conv2d(x, w, 1, "VALID")
            return tape.gradient(y, [x, w] if need_dx else [w])
        out.append((name, fwd, step))
    for name, xshape in POOLS:
        x = tf.constant(rng.standard_normal(xshape).astype(np.float32))

        def pfwd(x=x):
            return tf.nn.max_pool2d(x, 2, 2, "VALID")

        def pstep(x=x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.nn.max_pool2d(x, 2, 2, "VALID")
            return tape.gradient(y, x)
        out.append((name, pfwd, pstep))
    out.append(("cnn conv+pool stack",) + _stack(tf, rng))
    return out


def _stack(tf, rng):
    """conv-relu-pool-conv-relu-pool: the CNN's convolutional part, grads w.r.t. filters."""
    x = tf.constant(rng.standard_normal((64, 28, 28, 1)).astype(np.float32))
    w1 = tf.Variable(rng.standard_normal((3, 3, 1, 32)).astype(np.float32) * 0.3)
    w2 = tf.Variable(rng.standard_normal((3, 3, 32, 64)).astype(np.float32) * 0.1)

    def fwd():
        h = tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(x, w1, 1, "VALID")), 2, 2, "VALID")
        return tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(h, w2, 1, "VALID")), 2, 2,
                                "VALID")

    def step():
        with tf.GradientTape() as tape:
            y = fwd()
        return tape.gradient(y, [w1, w2])
    return fwd, step


def cpu_ms(fn, repeats):
    """Median process (CPU) time of ``fn`` in ms after two warm-up runs."""
    fn()
    fn()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return 1e3 * float(np.median(times))


def kernel_workloads():
    """(name, fn) for every array kernel of the compiled CNN step (batch 64)."""
    from dlframe.backends.numpy_backend import CPUDevice
    from dlframe.ops import conv_kernels, cpu_fusions, pooling
    d = CPUDevice(0)
    rng = np.random.default_rng(0)
    conv = {"strides": (1, 1), "pads": ((0, 0), (0, 0)), "dilations": (1, 1)}
    pool = {"ksize": (2, 2), "strides": (2, 2), "pads": ((0, 0), (0, 0)),
            "dilations": (1, 1)}
    out = []
    for (name, xshape, wshape), (pname, _) in zip(LAYERS, POOLS):
        x = rng.standard_normal(xshape).astype(np.float32)
        x = np.maximum(x, 0) if xshape[-1] > 1 else x   # a pooled ReLU output
        w = (rng.standard_normal(wshape) * 0.1).astype(np.float32)
        b = rng.standard_normal(wshape[-1]).astype(np.float32) * 0.1
        y, cols = cpu_fusions.fused_conv_patches_p.forward(d, x, w, b, relu=True,
                                                           **conv)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        p = pooling.max_pool_forward(d, y, **pool)
        dp = rng.standard_normal(p.shape).astype(np.float32)
        short = name.split()[0]
        out += [
            (f"{short} conv+bias+relu", lambda x=x, w=w, b=b: cpu_fusions.
             fused_conv_patches_p.forward(d, x, w, b, relu=True, **conv)),
            (f"{short} filter grad", lambda c=cols, g=dy, s=wshape: cpu_fusions.
             filter_grad_from_patches_p.forward(d, c, g, filter_shape=s))]
        if xshape[-1] > 1:   # conv1's input is the data: no input gradient
            out.append((f"{short} input grad", lambda g=dy, w=w, s=xshape[1:]:
                        conv_kernels.conv_backprop_input(d, g, w, in_shape=s, **conv)))
        out += [(f"{pname.split()[0]} max pool", lambda y=y: pooling.max_pool_forward(
                    d, y, **pool)),
                (f"{pname.split()[0]} relu+pool grad", lambda y=y, p=p, g=dp:
                 cpu_fusions.relu_max_pool_grad_p.forward(d, y, p, g, **pool))]
    return out


def kernels_main(repeats):
    total = 0.0
    print(f"{'kernel (compiled CNN step)':<28}{'cpu ms':>8}   (median, one BLAS thread)")
    for name, fn in kernel_workloads():
        ms = cpu_ms(fn, repeats)
        total += ms
        print(f"{name:<28}{ms:8.3f}")
    print(f"{'sum':<28}{total:8.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=0,
                        help="intra-op (BLAS) threads for large GEMMs; 0 = all cores")
    parser.add_argument("--kernels", action="store_true",
                        help="time the compiled step's array kernels (process time)")
    args = parser.parse_args()
    os.environ.setdefault("DLFRAME_DEVICE", "cpu")
    import dlframe
    if args.kernels:
        return kernels_main(args.repeats)
    if args.threads:
        dlframe.config.threading.set_intra_op_parallelism_threads(args.threads)
    frames = [("dlframe", dlframe)]
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow
        frames.append(("tensorflow", tensorflow))
    except ImportError:
        pass
    results = {}
    for fname, mod in frames:
        for name, fwd, step in workloads(mod):
            results[(fname, name, "fwd")] = time_ms(fwd, args.repeats)
            results[(fname, name, "fwd+bwd")] = time_ms(step, args.repeats)
    header = f"{'workload':<22}{'pass':<9}" + "".join(
        f"{f + ' med':>16}{'min':>8}" for f, _ in frames)
    if len(frames) > 1:
        header += f"{'ratio(min)':>12}"
    print(header + "   (ms, batch 64)")
    for name, _, _ in workloads(dlframe):
        for kind in ("fwd", "fwd+bwd"):
            vals = [results[(f, name, kind)] for f, _ in frames]
            line = f"{name:<22}{kind:<9}" + "".join(f"{m:16.2f}{lo:8.2f}" for m, lo in vals)
            if len(vals) > 1:
                line += f"{vals[0][1] / vals[1][1]:12.2f}"
            print(line)


if __name__ == "__main__":
    main()
