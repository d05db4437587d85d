"""dlframe: TensorFlow-2-compatible deep learning on CuPy (GPU) and NumPy (CPU)."""

from setuptools import find_packages, setup

setup(
    name="dlframe",
    version="0.1.0",
    description="A TF2/Keras-compatible deep-learning framework on CuPy and NumPy",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["dlframe", "dlframe.*"]),
    package_data={"dlframe": ["keras/datasets/*.npz"]},
    python_requires=">=3.10",
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.10",           # special functions (erf) on CPU
        "nvidia-ml-py>=12.0",    # provides the `pynvml` module (GPU.md §5)
        "threadpoolctl>=3.1",    # CPU device owns BLAS threading
        "cloudpickle>=2.2",      # tf.saved_model.save of tf.Module objects, by value
        "google-crc32c>=1.5",    # checksums of TF checkpoint bundles and TFRecords
        "ml-dtypes>=0.3",        # tf.bfloat16 and the float8 types, as TF requires it
    ],
    extras_require={
        "cuda12": ["cupy-cuda12x>=13"],
        "cuda13": ["cupy-cuda13x>=14"],
        "hdf5": ["h5py>=3.8"],
        "image": ["pillow>=9"],  # JPEG, GIF and load_img; PNG and BMP need nothing
        "tensorboard": ["tensorboardX>=2.6"],
        "tfrecord": ["protobuf>=4.21"],
        "examples": ["mlxtend>=0.23"],
        "mpi": ["mpi4py>=3.1"],
        "plot": ["pydot>=1.4"],
        "test": [
            "pytest>=7",
            "h5py>=3.8",
            "tensorboardX>=2.6",
            "tensorboard>=2.12",
            "protobuf>=4.21",
            "google-crc32c>=1.5",
            "mlxtend>=0.23",
            "ml-dtypes>=0.3",
            "pillow>=9",
            "attrs>=22",   # tf.nest treats @attr.s classes as structures (tested)
        ],
    },
)
