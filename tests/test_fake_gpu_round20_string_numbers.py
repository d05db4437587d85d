"""Numbers derived from host strings by ordinary ops, on a (fake) GPU default device.

Strings live on ``cpu:0`` (CuPy has no string arrays). TF keeps small int32 results
of such ops (``Shape``, ``Size``, ``Unique``'s indices) in host memory and copies them
to the GPU op that reads them, so ``tf.shape(words) + gpu_ints`` just works. dlframe's
rule: an op with a string operand on the host, called while the current device is a
GPU, runs on the host and puts its numeric outputs on that GPU (as host kernels do);
``tf.shape``/``tf.size``/``tf.rank`` of strings follow it. Under a ``/CPU:0`` scope
(and inside tf.data functions, which run under one) everything stays on the host.
A string ``tf.Variable`` made under a GPU default device lives on the host too.
Each scenario runs under the strict fake CuPy and on the CPU: the printed results
must agree.
"""

from tests.test_fake_gpu_host_kernels_round19 import _same_on_gpu_and_cpu

_ORDINARY_OPS = r"""
s = tf.constant(["ab", "cde", "f"])
g = tf.constant([1.0, 2.0, 3.0])
gi = tf.constant([1, 2, 3])


def derived(s, g, gi):
    return (tf.shape(s) + gi[:1], tf.size(s) * gi, tf.rank(s) + gi,
            tf.strings.length(s) + gi, tf.where(tf.equal(s, "ab"), g, g * 2),
            tf.cast(tf.strings.to_number(tf.strings.as_string(gi)), tf.float32) * g,
            tf.unique(s)[1] + gi, tf.reshape(g, tf.shape(s)),
            tf.zeros(tf.shape(s)[0]) + g, tf.fill(tf.shape(s), 2.0) * g,
            tf.boolean_mask(g, tf.not_equal(s, "f")),
            tf.gather(g, tf.strings.length(s) - 1))


eager = derived(s, g, gi)
compiled = tf.function(derived)(s, g, gi)
for a, b in zip(eager, compiled):
    where(a, False)
    where(b, False)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    print(a.dtype.name, a.numpy().tolist(), b.numpy().tolist())
words, idx = tf.unique(tf.constant(["x", "y", "x"]))
where(words, True)
where(idx, False)
emb = tf.keras.layers.Embedding(10, 2, embeddings_initializer="ones")
vec = emb(tf.strings.to_hash_bucket_fast(s, 10))
where(vec, False)
print(tf.function(lambda s: emb(tf.strings.to_hash_bucket_fast(s, 10)))(
    s).numpy().tolist())
words_var = tf.Variable(["a", "bb"])   # a string variable lives on the host
where(words_var, True)
words_var.assign(["ccc", "d"])
print("var", (tf.strings.length(words_var) + gi[:2]).numpy().tolist())
with tf.device("/CPU:0"):   # an explicit host scope keeps numbers on the host
    for t in (tf.shape(s), tf.size(s), tf.unique(s)[1], tf.strings.length(s)):
        assert t.device.endswith("CPU:0"), t.device
ds = tf.data.Dataset.from_tensor_slices((["ab", "cde", "f", "gh"], [1, 2, 3, 4]))
ds = ds.map(lambda w, x: (tf.size(w) + x, tf.shape(tf.strings.split(w))[0] * x,
                          tf.strings.length(w) + x)).batch(2)
print([[e.numpy().tolist() for e in el] for el in ds])
"""


def test_numbers_from_host_strings_meet_gpu_tensors():
    out = _same_on_gpu_and_cpu(_ORDINARY_OPS)
    # values from TF 2.21 (CPU) for the same program
    assert "int32 [4] [4]" in out
    assert "int32 [3, 6, 9] [3, 6, 9]" in out
    assert "int32 [2, 3, 4] [2, 3, 4]" in out
    assert "int32 [1, 3, 5] [1, 3, 5]" in out
    assert "float32 [1.0, 4.0, 6.0] [1.0, 4.0, 6.0]" in out
    assert "float32 [2.0, 3.0, 1.0] [2.0, 3.0, 1.0]" in out
    assert "[[[2, 3], [1, 2], [3, 5]], [[4, 5], [3, 4], [4, 6]]]" in out
    assert "var [4, 3]" in out
