"""``keras.applications``: ImageNet architectures (built without pretrained weights).

``weights=None`` builds a randomly initialized model; ``weights='imagenet'`` would
need a download and raises ValueError; a local weights file path is loaded.
"""

from dlframe.keras.applications import (
    densenet,
    imagenet_utils,
    mobilenet,
    mobilenet_v2,
    resnet,
    resnet50,
    vgg16,
    vgg19,
)
from dlframe.keras.applications.densenet import DenseNet121, DenseNet169, DenseNet201
from dlframe.keras.applications.mobilenet import MobileNet
from dlframe.keras.applications.mobilenet_v2 import MobileNetV2
from dlframe.keras.applications.resnet import ResNet50, ResNet101, ResNet152
from dlframe.keras.applications.vgg16 import VGG16
from dlframe.keras.applications.vgg19 import VGG19

__all__ = [
    "VGG16",
    "VGG19",
    "DenseNet121",
    "DenseNet169",
    "DenseNet201",
    "MobileNet",
    "MobileNetV2",
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "densenet",
    "imagenet_utils",
    "mobilenet",
    "mobilenet_v2",
    "resnet",
    "resnet50",
    "vgg16",
    "vgg19",
]
