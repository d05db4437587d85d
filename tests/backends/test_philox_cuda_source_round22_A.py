"""The CUDA C of dlframe's capturable Philox draws, checked on the host (round 22 A).

``dlframe/backends/philox_cuda.py`` builds its ``ElementwiseKernel`` operations from
C source strings. With the CUDA-only words defined for the host (``__device__``,
``__forceinline__``, ``__umulhi``), the same strings compile as C++ here, so their
arithmetic (the Philox rounds, the 128-bit counter carry, the uniform and dropout
mask rules, the output indexing) is checked against the array Philox of
``dlframe/ops/philox.py`` on machines without a GPU. What only a GPU can show
(CuPy's kernel plumbing, ``float16`` conversions):
tests/gpu/test_capturable_random_round22_A.py.
"""

import shutil
import subprocess

import numpy as np
import pytest

from dlframe.backends import philox_cuda
from dlframe.ops import philox

CXX = shutil.which("g++")
pytestmark = pytest.mark.skipif(CXX is None, reason="needs a C++ compiler (g++)")

KEY = (0x12345678, 0x9ABCDEF0)
COUNTERS = [12345, (1 << 64) - 7, (1 << 128) - 3]   # carries into word 2, wraps
# (name, uniform rule, C output type, output dtype, generating dtype)
CASES = [("f32", 23, "float", np.float32, np.float32),
         ("f64", 52, "double", np.float64, np.float64),
         ("f16", 10, "_Float16", np.float16, np.float16),
         ("f16m", 23, "_Float16", np.float16, np.float32)]   # a float16 dropout mask
WORDS = ("u32", 32, "unsigned int", np.uint32, np.uint32)   # raw words (normals)

_HOST = """#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#define __device__
#define __forceinline__ inline
static inline unsigned int __umulhi(unsigned int a, unsigned int b) {
  return (unsigned int)(((unsigned long long)a * b) >> 32);
}
"""


def _program():
    parts = [_HOST, philox_cuda._PREAMBLE]
    calls = []
    for name, bits, ctype, _, _ in CASES + [WORDS]:
        per_block = philox_cuda._UNIFORM[bits][1]
        for write in ("uniform", "mask"):
            fn = f"{name}_{write}"
            parts.append(
                f"template <typename T> void {fn}(const unsigned int* st, "
                "unsigned long long total, double rate, double scale, T* y) {\n"
                f"  for (ptrdiff_t i = 0; i < (ptrdiff_t)((total + {per_block - 1}) / "
                f"{per_block}); ++i) {{\n"
                f"{philox_cuda.draw_source(bits, write)}  }}\n}}\n")
            calls.append(f'  if (!strcmp(argv[10], "{fn}")) {{ {ctype}* y = ({ctype}*)'
                         f"calloc(n + 1, sizeof({ctype})); {fn}<{ctype}>(st, n, rate, "
                         f"scale, y); fwrite(y, sizeof({ctype}), n, stdout); }}\n")
    parts.append(
        "int main(int argc, char** argv) {\n  unsigned int st[6];\n"
        "  for (int k = 0; k < 6; ++k) st[k] = strtoul(argv[1 + k], 0, 10);\n"
        "  unsigned long long n = strtoull(argv[7], 0, 10);\n"
        "  double rate = atof(argv[8]), scale = atof(argv[9]);\n" + "".join(calls) +
        '  if (!strcmp(argv[10], "advance")) {\n'
        "    unsigned long long delta = strtoull(argv[11], 0, 10);\n"
        f"{philox_cuda._ADVANCE}    fwrite(st, 4, 6, stdout);\n  }}\n  return 0;\n}}\n")
    return "".join(parts)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    folder = tmp_path_factory.mktemp("philox_cuda")
    src, exe = folder / "k.cpp", folder / "k"
    src.write_text(_program())
    subprocess.run([CXX, "-O1", "-std=c++17", "-o", str(exe), str(src)], check=True)

    def run(words, n, rate, scale, fn, delta=0):
        args = [str(exe), *map(str, words), str(n), repr(rate), repr(scale), fn,
                str(delta)]
        return subprocess.run(args, capture_output=True, check=True).stdout
    return run


@pytest.mark.parametrize("counter", COUNTERS)
@pytest.mark.parametrize("name,bits,ctype,dtype,gen", CASES)
def test_draw_source_equals_the_array_philox(kernel, counter, name, bits, ctype, dtype,
                                             gen):
    words = philox_cuda.state_words(KEY, counter)
    rate = float(gen(0.3))
    scale = dtype(1) / (dtype(1) - dtype(0.3))
    for n in (1, 6, 1027):
        u = philox.uniform(philox.Bits(np, KEY, counter), (n,), gen)
        if gen == dtype:
            got = np.frombuffer(kernel(words, n, 0.0, 0.0, f"{name}_uniform"), dtype)
            np.testing.assert_array_equal(got, u)
        got = np.frombuffer(kernel(words, n, rate, float(scale), f"{name}_mask"), dtype)
        want = np.where(u >= gen(0.3), scale, dtype(0)).astype(dtype)
        np.testing.assert_array_equal(got, want)
        assert 0 < np.count_nonzero(got == 0) < n or n < 10


@pytest.mark.parametrize("counter", COUNTERS)
@pytest.mark.parametrize("delta", [1, 4 * 256, (1 << 64) - 1])
def test_advance_source_adds_with_carry_and_keeps_the_key(kernel, counter, delta):
    out = np.frombuffer(kernel(philox_cuda.state_words(KEY, counter), 0, 0.0, 0.0,
                               "advance", delta), np.uint32)
    got = sum(int(w) << (32 * i) for i, w in enumerate(out[:4]))
    assert got == (counter + delta) % (1 << 128)
    assert tuple(int(w) for w in out[4:]) == KEY


@pytest.mark.parametrize("counter", COUNTERS)
def test_words_source_equals_the_array_philox(kernel, counter):
    words = philox_cuda.state_words(KEY, counter)
    for n in (1, 7, 1030):
        got = np.frombuffer(kernel(words, n, 0.0, 0.0, "u32_uniform"), np.uint32)
        np.testing.assert_array_equal(got, philox.Bits(np, KEY, counter).words(n))
