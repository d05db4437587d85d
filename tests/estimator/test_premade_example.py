"""examples/premade_estimator.py (the iris guide) runs and learns."""

import importlib.util
import pathlib

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / \
    "premade_estimator.py"


def test_premade_estimator_example(capsys):
    spec = importlib.util.spec_from_file_location("premade_estimator", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(steps=300)
    assert result["accuracy"] > 0.9
    assert capsys.readouterr().out.count("Prediction is") == 3
