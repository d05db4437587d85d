"""Where ``weights='imagenet'`` comes from: the files Keras publishes for each
application, under the names Keras gives them in its cache.

Keras fetches them with ``keras.utils.get_file(fname, origin, cache_subdir='models',
file_hash=...)``, so a machine that ran the program under TensorFlow already holds
them in ``~/.keras/models`` (or ``$KERAS_HOME/models``); dlframe looks them up
there through the same ``get_file`` and downloads only what is missing. The files
use Keras 2's HDF5 layout and load by layer name.
"""

import warnings
from typing import NamedTuple

from dlframe.keras.utils import file_utils

GCS = "https://storage.googleapis.com/tensorflow/keras-applications/"
EFFICIENTNET_GCS = "https://storage.googleapis.com/keras-applications/"
CLASS_INDEX_FILE = "imagenet_class_index.json"
CLASS_INDEX_ORIGIN = (
    "https://storage.googleapis.com/download.tensorflow.org/data/" + CLASS_INDEX_FILE
)

# (with the classifier, without it) checksums Keras verifies, keyed by file stem
HASHES = {
    "vgg16": ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc"),
    "vgg19": ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6"),
    "resnet50": (
        "2cb95161c43110f7111970584f804107",
        "4d473c1dd8becc155b73f8504c6f6626",
    ),
    "resnet101": (
        "f1aeb4b969a6efcfb50fad2f0c20cfc5",
        "88cf7a10940856eca736dc7b7e228a21",
    ),
    "resnet152": (
        "100835be76be38e30d865e96f2aaae62",
        "ee4c566cf9a93f14d82f913c2dc6dd0c",
    ),
    "resnet50v2": (
        "3ef43a0b657b3be2300d5770ece849e0",
        "fac2f116257151a9d068a22e544a4917",
    ),
    "resnet101v2": (
        "6343647c601c52e1368623803854d971",
        "c0ed64b8031c3730f411d2eb4eea35b5",
    ),
    "resnet152v2": (
        "a49b44d1979771252814e80f8ec446f9",
        "ed17cf2e0169df9d443503ef94b23b33",
    ),
    "densenet121": (
        "9d60b8095a5708f2dcce2bca79d332c7",
        "30ee3e1110167f948a6b9946edeeb738",
    ),
    "densenet169": (
        "d699b8f76981ab1b30698df4c175e90b",
        "b8c4d4c20dd625c148057b9ff1c1176b",
    ),
    "densenet201": (
        "1ceb130c1ea1b78c3bf6114dbdfd8807",
        "c13680b51ded0fb44dff2d8f86ac8bb1",
    ),
    "inception_v3": (
        "9a0d58056eeedaa3f26cb7ebd46da564",
        "bcbd6486424b2319ff4ef7d526e38f63",
    ),
    "xception": (
        "0a58e3b7378bc2990ea3b43d5981f1f6",
        "b0042744bf5b25fce3cb969f33bebb97",
    ),
    "inception_resnet_v2": (
        "e693bd0210a403b3192acc6073ad2e96",
        "d19885ff4a710c122648d3b5c3b684e4",
    ),
    "nasnet_mobile": (
        "020fb642bf7360b370c678b08e0adf61",
        "1ed92395b5b598bdda52abe5c0dbfd63",
    ),
    "nasnet_large": (
        "11577c9a518f0070763c2b964a382f17",
        "d81d89dc07e6e56530c4e77faddd61b5",
    ),
    "efficientnetb0": (
        "902e53a9f72be733fc0bcb005b3ebbac",
        "50bc09e76180e00e4465e1a485ddc09d",
    ),
    "efficientnetb1": (
        "1d254153d4ab51201f1646940f018540",
        "74c4e6b3e1f6a1eea24c589628592432",
    ),
    "efficientnetb2": (
        "b15cce36ff4dcbd00b6dd88e7857a6ad",
        "111f8e2ac8aa800a7a99e3239f7bfb39",
    ),
    "efficientnetb3": (
        "ffd1fdc53d0ce67064dc6a9c7960ede0",
        "af6d107764bb5b1abb91932881670226",
    ),
    "efficientnetb4": (
        "18c95ad55216b8f92d7e70b3a046e2fc",
        "ebc24e6d6c33eaebbd558eafbeedf1ba",
    ),
    "efficientnetb5": (
        "ace28f2a6363774853a83a0b21b9421a",
        "38879255a25d3c92d5e44e04ae6cec6f",
    ),
    "efficientnetb6": (
        "165f6e37dce68623721b423839de8be5",
        "9ecce42647a20130c1f39a5d4cb75743",
    ),
    "efficientnetb7": (
        "8c03f828fec3ef71311cd463b6759d99",
        "cbcfe4450ddf6f3ad90b1b398090fe4a",
    ),
    "efficientnetv2-b0": (
        "21ecbf6da12460d5c40bb2f29ceb2188",
        "893217f2bb855e2983157299931e43ff",
    ),
    "efficientnetv2-b1": (
        "069f0534ff22adf035c89e2d9547a9dc",
        "0e80663031ca32d657f9caa404b6ec37",
    ),
    "efficientnetv2-b2": (
        "424e49f28180edbde1e94797771950a7",
        "1dfe2e7a5d45b6632553a8961ea609eb",
    ),
    "efficientnetv2-b3": (
        "1f1fc43bd98a6e4fd8fdfd551e02c7a0",
        "f6abf7b5849ac99a89b50dd3fd532856",
    ),
    "efficientnetv2-s": (
        "e1d88a8495beba45748fedd0cecbe016",
        "af0682fb74e8c54910f2d4393339c070",
    ),
    "efficientnetv2-m": (
        "a3bf6aa3276309f4fc6a34aa114c95cd",
        "1b8dc055df72dde80d614482840fe342",
    ),
    "efficientnetv2-l": (
        "27e6d408b53c7ebc868fefa357689935",
        "b0b66b5c863aef5b46e8608fe1711615",
    ),
    "convnext_tiny": (
        "8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
        "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1",
    ),
    "convnext_small": (
        "ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
        "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab",
    ),
    "convnext_base": (
        "52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
        "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45",
    ),
    "convnext_large": (
        "070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
        "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd",
    ),
    "convnext_xlarge": (
        "c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05",
    ),
    "mobilenet_v3_large_224_0.75_float": (
        "765b44a33ad4005b3ac83185abf1d0eb",
        "40af19a13ebea4e2ee0c676887f69a2e",
    ),
    "mobilenet_v3_large_224_1.0_float": (
        "59e551e166be033d707958cf9e29a6a7",
        "07fb09a5933dd0c8eaafa16978110389",
    ),
    "mobilenet_v3_large_minimalistic_224_1.0_float": (
        "675e7b876c45c57e9e63e6d90a36599c",
        "ec5221f64a2f6d1ef965a614bdae7973",
    ),
    "mobilenet_v3_small_224_0.75_float": (
        "cb65d4e5be93758266aa0a7f2c6708b7",
        "ebdb5cc8e0b497cd13a7c275d475c819",
    ),
    "mobilenet_v3_small_224_1.0_float": (
        "8768d4c2e7dee89b9d02b2d03d65d862",
        "d3e8ec802a04aa4fc771ee12a9a9b836",
    ),
    "mobilenet_v3_small_minimalistic_224_1.0_float": (
        "99cd97fb2fcdad2bf028eb838de69e37",
        "cde8136e733e811080d9fcd8a252f7e4",
    ),
}
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"


class WeightsFile(NamedTuple):
    """One ImageNet weights file: its name in the cache, its URL, its checksum."""

    fname: str
    origin: str
    file_hash: str | None = None


def published(folder, fname, file_hash=None, base=GCS, origin_name=None):
    """The file ``fname`` published under ``<base><folder>/``."""
    url = base + (folder + "/" if folder else "") + (origin_name or fname)
    return WeightsFile(fname, url, file_hash)


def _pair(stem, top, notop, folder, base=GCS, origins=(None, None)):
    """``files(include_top, input_shape)`` choosing between two published files;
    the checksums are looked up in ``HASHES[stem]`` when called."""

    def files(include_top, input_shape=None):
        index = 0 if include_top else 1
        digest = HASHES.get(stem, (None, None))[index]
        fname = (top, notop)[index]
        return published(folder, fname, digest, base, origins[index])

    return files


def tf_kernels(stem, folder=None):
    """``<stem>_weights_tf_dim_ordering_tf_kernels[_notop].h5`` (VGG, ResNet,
    DenseNet, Inception, Xception)."""
    name = f"{stem}_weights_tf_dim_ordering_tf_kernels"
    return _pair(stem, name + ".h5", name + "_notop.h5", folder or stem)


def by_model_name(stem, folder, base=GCS):
    """``<model name>.h5`` / ``<model name>_notop.h5`` (EfficientNet, ConvNeXt)."""
    return _pair(stem, stem + ".h5", stem + "_notop.h5", folder, base)


def nasnet(size):
    """NASNet's files: cached as ``nasnet_<size>[_no_top].h5``, published as
    ``NASNet-<size>[-no-top].h5``."""
    stem = f"nasnet_{size}"
    return _pair(
        stem,
        stem + ".h5",
        stem + "_no_top.h5",
        "nasnet",
        origins=(f"NASNet-{size}.h5", f"NASNet-{size}-no-top.h5"),
    )


def resolution(input_shape, sizes, warn=False, channels_first=False):
    """The resolution of the published weights for ``input_shape``: its rows when
    the input is square and one of ``sizes``, else 224 (with Keras' warning when
    ``warn``)."""
    rows, cols = (None, None)
    if input_shape is not None and len(input_shape) == 3:
        rows, cols = input_shape[1:] if channels_first else input_shape[:2]
    if rows == cols and rows in sizes:
        return rows
    if warn:
        listed = ", ".join(str(size) for size in sizes)
        warnings.warn(
            "`input_shape` is undefined or non-square, or `rows` is not in "
            f"[{listed}]. Weights for input shape (224, 224) will be loaded as "
            "the default.",
            stacklevel=7,  # the application constructor's caller
        )
    return 224


def fetch(weights_file):
    """The local path of ``weights_file`` in Keras' cache folder ``models``."""
    return file_utils.get_file(
        weights_file.fname,
        weights_file.origin,
        cache_subdir="models",
        file_hash=weights_file.file_hash,
    )


def class_index_path():
    """``imagenet_class_index.json`` in Keras' cache (downloaded when missing)."""
    return fetch(WeightsFile(CLASS_INDEX_FILE, CLASS_INDEX_ORIGIN, CLASS_INDEX_HASH))
