"""DESIGN.md §2: imports point down `config <- backends <- core <- ops <- {data, distribute}
<- keras <- feature_column`, and numpy/cupy are imported for compute only under backends/."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1] / "dlframe"
LEVEL = {"errors": 0, "config": 0, "backends": 1, "core": 2, "ops": 3, "device_scope": 3,
         "data": 4, "distribute": 4, "io": 4, "train": 4, "function": 4, "autograph": 4,
         "summary": 4, "linear_operator": 4, "profiler": 4,
         "keras": 5, "feature_column": 6, "estimator": 7}
# Host-side I/O packages may read files into NumPy (DESIGN.md §2).
NUMPY_OK = ("backends", "data", "keras/datasets", "keras/saving")
# Top-level namespace modules (dlframe.math, dlframe.nn, ...) are tables over everything.
TABLES = {"__init__", "math", "nn", "linalg", "random", "image", "signal", "strings",
          "sparse", "experimental", "autodiff", "compat", "types", "test",
          "saved_model", "lite", "bitwise", "audio", "version", "sysconfig", "nest", "debugging",
          "ragged", "lookup", "tpu", "python", "sets", "raw_ops"}


def _package(path):
    rel = path.relative_to(ROOT)
    parts = rel.with_suffix("").parts
    return parts[0]


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno


def test_imports_point_down():
    bad = []
    for path in ROOT.rglob("*.py"):
        pkg = _package(path)
        if pkg in TABLES:
            continue
        mine = LEVEL.get(pkg)
        assert mine is not None, f"{path}: package {pkg!r} missing from the layering table"
        for mod, line in _imports(path):
            if not mod.startswith("dlframe."):
                continue
            target = mod.split(".")[1]
            if target in TABLES and target != "__init__":
                bad.append(f"{path}:{line} imports namespace table {mod}")
                continue
            other = LEVEL.get(target)
            if other is not None and other > mine:
                bad.append(f"{path}:{line} ({pkg}) imports {mod} (higher layer)")
    assert not bad, "\n".join(bad)


def test_numpy_and_cupy_only_in_backends():
    bad = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(NUMPY_OK):
            continue
        for mod, line in _imports(path):
            if mod.split(".")[0] in ("numpy", "cupy", "cupyx"):
                bad.append(f"{rel}:{line} imports {mod}")
    assert not bad, "\n".join(bad)


def test_import_does_not_load_cupy():
    import subprocess
    import sys
    code = "import sys, dlframe; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_every_source_folder_is_a_package():
    """setup.py's find_packages only installs folders with an __init__.py: a folder
    without one works in-tree but is missing from the installed package."""
    missing = [str(d.relative_to(ROOT.parent)) for d in ROOT.rglob("*")
               if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py"))
               and not (d / "__init__.py").exists()]
    assert not missing, missing
