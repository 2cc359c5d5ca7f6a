"""Run a per-pixel network on images of any size with bounded memory.

A :class:`Predictor` prepares a model once (eval mode, BatchNorm folded into
the convolutions, channels-last memory layout on CPU) and applies it tile by
tile. Keep one Predictor for a batch of images: the model is loaded once.

Example
-------
>>> import numpy as np
>>> from astroclean.models import create_model
>>> from astroclean.inference import Predictor
>>> predictor = Predictor(create_model("unet-bn", pretrained=False, depth=2, width=4))
>>> predictor(np.zeros((40, 50), dtype="f4")).shape
(40, 50)
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from .device import select_device
from .tiling import predict_tiled


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """A copy of ``model`` (eval) with every Conv2d+BatchNorm2d pair fused into one Conv2d."""
    model = copy.deepcopy(model).eval()
    for module in model.modules():
        if isinstance(module, nn.Sequential):
            for i in range(len(module) - 1):
                conv, norm = module[i], module[i + 1]
                if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                    module[i] = torch.nn.utils.fusion.fuse_conv_bn_eval(conv, norm)
                    module[i + 1] = nn.Identity()
    return model


class Predictor:
    """Apply ``model`` (logits out) to 2-D float32 arrays; returns probabilities.

    Parameters
    ----------
    model : torch.nn.Module
        Per-pixel network with a ``multiple`` attribute (pooling factor) and
        ``receptive_radius()``.
    device : str or torch.device, optional
        ``"cpu"``, ``"cuda"``...; default: CUDA when available, else CPU.
    tile : int
        Core size of the tiles (memory grows with ``(tile + 2 halo)**2``).
    halo : int, optional
        Context each side; default: the model's receptive radius rounded up
        to its pooling factor.
    """

    def __init__(self, model: nn.Module, *, device=None, tile: int = 1024, halo: int | None = None):
        self.device = select_device(device)
        self.multiple = getattr(model, "multiple", 1)
        radius = model.receptive_radius() if hasattr(model, "receptive_radius") else 32
        self.halo = halo if halo is not None else -(-radius // self.multiple) * self.multiple
        self.tile = max(self.multiple, (tile // self.multiple) * self.multiple)
        prepared = fold_batchnorm(model).to(self.device)
        self.channels_last = self.device.type == "cpu"
        if self.channels_last:
            prepared = prepared.to(memory_format=torch.channels_last)
        self.model = prepared
        self.card = getattr(model, "card", None)

    def _batch(self, batch: np.ndarray) -> np.ndarray:
        tensor = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))[:, None].to(self.device)
        if self.channels_last:
            tensor = tensor.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            prob = torch.sigmoid(self.model(tensor))
        return prob[:, 0].float().cpu().numpy()

    def __call__(self, x: np.ndarray, *, progress=None) -> np.ndarray:
        """Probability map of the normalised image ``x`` (y, x)."""
        return predict_tiled(self._batch, x, tile=self.tile, halo=self.halo, multiple=self.multiple,
                             progress=progress)
