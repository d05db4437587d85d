"""examples/distributed_training.py (TF's distributed custom-loop tutorial shape plus
Keras fit) runs on two replicas and learns."""

import pathlib
import subprocess
import sys

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "distributed_training.py"


def test_distributed_training_example_learns_on_two_replicas():
    out = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True,
                         timeout=600, check=True).stdout
    assert "replicas: 2" in out
    losses = [float(line.split("loss ")[1].split(",")[0])
              for line in out.splitlines() if line.startswith("epoch")]
    assert len(losses) == 3 and losses[-1] < 0.5 * losses[0]
    accuracy = float(out.rsplit("fit accuracy: ", 1)[1])
    assert accuracy >= 0.9
