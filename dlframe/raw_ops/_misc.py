"""``tf.raw_ops`` random, string, FFT and logging ops."""

import dlframe as tf
from dlframe.ops.framework_ops import _trace_time_value
from dlframe.raw_ops._builder import Table, outputs

OPS = Table()
rnd, s, sig = tf.random, tf.strings, tf.signal


# Stateful random ops: (seed, seed2) == (0, 0) draws fresh randomness; otherwise
# ``seed2 or seed`` is the op-level seed of dlframe's matching tf.random op.
def _seed(seed, seed2):
    return (seed2 or seed) or None


OPS.op("RandomUniform", "shape dtype",
       lambda shape, dtype, seed, seed2: rnd.uniform(shape, dtype=dtype,
                                                     seed=_seed(seed, seed2)),
       seed=0, seed2=0)
OPS.op("RandomStandardNormal", "shape dtype",
       lambda shape, dtype, seed, seed2: rnd.normal(shape, dtype=dtype,
                                                    seed=_seed(seed, seed2)),
       seed=0, seed2=0)
OPS.op("TruncatedNormal", "shape dtype",
       lambda shape, dtype, seed, seed2: rnd.truncated_normal(
           shape, dtype=dtype, seed=_seed(seed, seed2)), seed=0, seed2=0)


def _uniform_int(shape, minval, maxval, seed, seed2):
    minval = tf.convert_to_tensor(minval)
    return rnd.uniform(shape, minval=minval, maxval=maxval, dtype=minval.dtype,
                       seed=_seed(seed, seed2))


OPS.op("RandomUniformInt", "shape minval maxval", _uniform_int, seed=0, seed2=0)
OPS.op("Multinomial", "logits num_samples",
       lambda logits, num_samples, seed, seed2, output_dtype: rnd.categorical(
           logits, num_samples, dtype=output_dtype, seed=_seed(seed, seed2)),
       seed=0, seed2=0, output_dtype=tf.int64)
OPS.op("RandomShuffle", "value",
       lambda value, seed, seed2: rnd.shuffle(value, seed=_seed(seed, seed2)),
       seed=0, seed2=0)


def _gamma(shape, alpha, seed, seed2):
    alpha = tf.convert_to_tensor(alpha)
    return rnd.gamma(shape, alpha, dtype=alpha.dtype, seed=_seed(seed, seed2))


def _poisson(shape, rate, seed, seed2):
    rate = tf.convert_to_tensor(rate)
    return rnd.poisson(shape, rate, dtype=rate.dtype, seed=_seed(seed, seed2))


OPS.op("RandomGamma", "shape alpha", _gamma, seed=0, seed2=0)
OPS.op("RandomPoisson", "shape rate", _poisson, seed=0, seed2=0)

# Stateless ops: dlframe's stateless draws are TF's Philox streams.
OPS.op("StatelessRandomUniform", "shape seed",
       lambda shape, seed, dtype: rnd.stateless_uniform(shape, seed, dtype=dtype),
       dtype=tf.float32)
OPS.op("StatelessRandomNormal", "shape seed",
       lambda shape, seed, dtype: rnd.stateless_normal(shape, seed, dtype=dtype),
       dtype=tf.float32)
OPS.op("StatelessTruncatedNormal", "shape seed",
       lambda shape, seed, dtype: rnd.stateless_truncated_normal(shape, seed,
                                                                 dtype=dtype),
       dtype=tf.float32)


def _stateless_uniform_int(shape, seed, minval, maxval):
    minval = tf.convert_to_tensor(minval)
    return rnd.stateless_uniform(shape, seed, minval=minval, maxval=maxval,
                                 dtype=minval.dtype)


OPS.op("StatelessRandomUniformInt", "shape seed minval maxval", _stateless_uniform_int)
OPS.op("StatelessMultinomial", "logits num_samples seed",
       lambda logits, num_samples, seed, output_dtype: rnd.stateless_categorical(
           logits, num_samples, seed, dtype=output_dtype), output_dtype=tf.int64)

# strings
OPS.op("StringJoin", "inputs",
       lambda inputs, separator: s.join(inputs, separator=separator), separator="")
OPS.op("StringLength", "input", lambda input, unit: s.length(input, unit=unit),
       unit="BYTE")
OPS.op("StringLower", "input", lambda input, encoding: s.lower(input, encoding=encoding),
       encoding="")
OPS.op("StringUpper", "input", lambda input, encoding: s.upper(input, encoding=encoding),
       encoding="")
OPS.unary("input", StringStrip=s.strip)
_SPLIT = outputs("StringSplitV2", "indices values shape")


def _string_split(input, sep, maxsplit):
    sep = _trace_time_value(tf.convert_to_tensor(sep)).item()
    sep = sep.decode() if isinstance(sep, bytes) else sep
    sparse = s.split(input, sep=sep or None, maxsplit=maxsplit).to_sparse()
    return _SPLIT(sparse.indices, sparse.values, sparse.dense_shape)


OPS.op("StringSplitV2", "input sep", _string_split, maxsplit=-1)
OPS.op("Substr", "input pos len",
       lambda input, pos, len, unit: s.substr(input, pos, len, unit=unit), unit="BYTE")
OPS.op("StringToNumber", "string_tensor",
       lambda string_tensor, out_type: s.to_number(string_tensor, out_type=out_type),
       out_type=tf.float32)
OPS.op("AsString", "input",
       lambda input, **attrs: tf.as_string(input, **attrs),
       precision=-1, scientific=False, shortest=False, width=-1, fill="")
for _name in ("RegexReplace", "StaticRegexReplace"):
    OPS.op(_name, "input pattern rewrite",
           lambda input, pattern, rewrite, replace_global: s.regex_replace(
               input, pattern, rewrite, replace_global=replace_global),
           replace_global=True)
OPS.op("RegexFullMatch", "input pattern",
       lambda input, pattern: s.regex_full_match(input, pattern))
OPS.op("ReduceJoin", "inputs reduction_indices",
       lambda inputs, reduction_indices, keep_dims, separator: s.reduce_join(
           inputs, axis=reduction_indices, keepdims=keep_dims, separator=separator),
       keep_dims=False, separator="")
OPS.op("StringToHashBucketFast", "input num_buckets",
       lambda input, num_buckets: s.to_hash_bucket_fast(input, num_buckets))

# FFT
OPS.unary("input", FFT=sig.fft, IFFT=sig.ifft, FFT2D=sig.fft2d, IFFT2D=sig.ifft2d,
          FFT3D=sig.fft3d, IFFT3D=sig.ifft3d)
for _name, _fn, _attr, _default in (
        ("RFFT", sig.rfft, "Tcomplex", tf.complex64),
        ("IRFFT", sig.irfft, "Treal", tf.float32),
        ("RFFT2D", sig.rfft2d, "Tcomplex", tf.complex64),
        ("IRFFT2D", sig.irfft2d, "Treal", tf.float32)):
    OPS.op(_name, "input fft_length",
           lambda input, fft_length, _fn=_fn, **_: _fn(input, fft_length=fft_length),
           **{_attr: _default})


# logging and assertions
def _print_v1(input, data, message, first_n, summarize):
    tf.print(message, *data, sep="", summarize=summarize)
    return tf.identity(input)


OPS.op("Print", "input data", _print_v1, message="", first_n=-1, summarize=3)
OPS.op("PrintV2", "input",
       lambda input, output_stream, end: tf.print(input, output_stream=output_stream,
                                                  end=end),
       output_stream="stderr", end="\n")
OPS.op("Assert", "condition data",
       lambda condition, data, summarize: tf.debugging.Assert(condition, data,
                                                              summarize=summarize),
       summarize=3)
