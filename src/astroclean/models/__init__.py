"""Architectures, the model registry and weight loading.

>>> from astroclean.models import list_models, create_model, get_card   # doctest: +SKIP
"""

from .card import ModelCard
from .registry import create_model, file_sha256, get_card, list_models, load_weights, weights_dir
from .pconv import PartialConv2d, PartialConvTranspose2d
from .pconv_unet import PConvUNet
from .unet import UNet

__all__ = ["ModelCard", "UNet", "create_model", "get_card", "list_models", "load_weights", "weights_dir",
           "file_sha256", "PConvUNet", "PartialConv2d", "PartialConvTranspose2d"]
