# dlframe on a CUDA 12 GPU (also runs on a machine without one: it falls back to the CPU).
# Build:  docker build -t dlframe .
# Test:   docker run --gpus all dlframe                  (runs the test suite)
# Train:  docker run --gpus all dlframe python examples/mnist_quickstart.py
FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip python3-venv \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/dlframe
COPY . .
RUN python3 -m pip install --upgrade pip \
 && python3 -m pip install ".[cuda12,test,examples]"

CMD ["python3", "-m", "pytest"]
