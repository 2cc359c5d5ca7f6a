"""The cirrus networks: presets of the shared U-Net (``astroclean.models.unet``, registered as ``unet``).

Two encoders, both small and trained from scratch (nothing can be downloaded): ResNet-style basic
blocks and MobileNetV2-style inverted residuals, a plain full-resolution stem, bilinear upsampling
in the decoder. BatchNorm only, so a network in eval mode is a fixed per-pixel function and tiled
inference equals a whole-image pass. A card's ``architecture`` is one of these dicts (with the
input channels of the model), so ``astroclean.models.create_model`` builds the shipped models.

Example
-------
>>> import torch
>>> from astroclean.models.registry import build_architecture
>>> from astroclean.cirrus.nets import ARCHITECTURES
>>> net = build_architecture(ARCHITECTURES["cirrus-unet-tiny"]).eval()
>>> net(torch.zeros(1, 4, 20, 28)).shape
torch.Size([1, 1, 20, 28])
"""

from __future__ import annotations

__all__ = ["ARCHITECTURES"]

_UNET = dict(kind="unet", out_channels=1, upsample="bilinear", norm="batch")

# name -> the card's architecture dict (options of astroclean.models.unet.UNet)
ARCHITECTURES = {
    "cirrus-unet-mbv2": dict(_UNET, in_channels=4, encoder="mobilenetv2", widths=[12, 16, 24, 32, 48, 64], blocks=2),
    "cirrus-unet-resnet": dict(_UNET, in_channels=4, encoder="resnet", widths=[12, 16, 24, 32, 48, 64], blocks=1),
    "cirrus-mask-unet": dict(_UNET, in_channels=3, encoder="mobilenetv2", widths=[8, 16, 24, 32], blocks=1),
    "cirrus-unet-tiny": dict(_UNET, in_channels=4, encoder="resnet", widths=[4, 8, 8], blocks=1),
}
