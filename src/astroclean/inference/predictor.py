"""Run any registered network: densely on images of any size (exact tiling), or on batches of cutouts.

A :class:`Predictor` prepares a model once (eval mode, BatchNorm folded into
the convolutions, channels-last memory layout on CPU, where a UNet's full-resolution
concatenation is split into two convolutions) and applies the output
activation its card declares (``sigmoid``, ``softmax`` or ``none``). Keep one
Predictor for a batch of images: the model is loaded once.

* :meth:`Predictor.dense` takes ``(y, x)`` or ``(C, y, x)`` and returns ``(y, x)`` for
  one output channel, else ``(K, y, x)``; tiles with a halo give the whole-image result.
* :meth:`Predictor.cutouts` takes ``(N, C, h, w)`` (plus any extra inputs the network
  takes, such as a validity mask) and returns the network's outputs for the batch,
  ``batch_size`` cutouts at a time.

Example
-------
>>> import numpy as np
>>> from astroclean.models import create_model
>>> from astroclean.inference import Predictor
>>> predictor = Predictor(create_model("unet-bn", pretrained=False, depth=2, width=4))
>>> predictor.dense(np.zeros((40, 50), dtype="f4")).shape
(40, 50)
>>> Predictor(create_model("resnet-tiny", pretrained=False, n_outputs=4)).cutouts(np.zeros((5, 3, 16, 16))).shape
(5, 4)
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from astroclean.inference.device import select_device
from astroclean.inference.tiling import predict_tiled


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


def default_tile(device) -> int:
    """Tile core size: 512 px on CPU, 1024 on a GPU.

    On the project's 2-core CPU, ``cr-any`` ran a 2048 x 4096 frame in 5.0-5.6 s with 512-px tiles and in
    4.8-5.9 s with 1024-px ones over four runs (the same within the spread), at about 20 % less peak memory
    (800-845 MB against 977-1070 MB): ``benchmarks/speed_cosmic.py --methods astroclean:cr-any
    "astroclean:cr-any[tile=1024]"``, docs/speed.md.
    """
    return 512 if torch.device(device).type == "cpu" else 1024


_ACTIVATIONS = {"sigmoid": torch.sigmoid, "softmax": lambda t: torch.softmax(t, dim=1), "none": lambda t: t}


class Predictor:
    """Apply ``model`` to images (dense) or cutouts, with the output activation of its card.

    Parameters
    ----------
    model : torch.nn.Module
        Per-pixel network with a ``multiple`` attribute (pooling factor) and
        ``receptive_radius()``.
    device : str or torch.device, optional
        ``"cpu"``, ``"cuda"``...; default: CUDA when available, else CPU.
    tile : int, optional
        Core size of the tiles (memory grows with ``(tile + 2 halo)**2``); default :func:`default_tile`.
    halo : int, optional
        Context each side; default: the model's receptive radius rounded up
        to its pooling factor.
    activation : {"sigmoid", "softmax", "none"}, optional
        Default: the card's (``card.activation``), else sigmoid.
    batch_size : int
        Cutouts per network call in :meth:`cutouts`.
    """

    def __init__(self, model: nn.Module, *, device=None, tile: int | None = None, halo: int | None = None,
                 activation: str | None = None, batch_size: int = 64):
        from astroclean.errors import AstrocleanValueError

        card = getattr(model, "card", None)
        activation = activation or (card.activation if card is not None else "sigmoid")
        if activation not in _ACTIVATIONS:
            raise AstrocleanValueError(f"activation must be one of {', '.join(_ACTIVATIONS)}, got {activation!r}")
        self.activation, self._activate, self.batch_size = activation, _ACTIVATIONS[activation], int(batch_size)
        self.device = select_device(device)
        self.multiple = getattr(model, "multiple", 1)
        radius = model.receptive_radius() if hasattr(model, "receptive_radius") else 32
        self.halo = halo if halo is not None else -(-radius // self.multiple) * self.multiple
        tile = default_tile(self.device) if tile is None else int(tile)
        self.tile = max(self.multiple, (tile // self.multiple) * self.multiple)
        prepared = fold_batchnorm(model).to(self.device)
        self.channels_last = self.device.type == "cpu"
        if self.channels_last:
            if hasattr(prepared, "split_concatenations"):   # a UNet: no full-resolution concatenation
                prepared.split_concatenations()
            prepared = prepared.to(memory_format=torch.channels_last)
        self.model = prepared
        self.card = getattr(model, "card", None)

    def _tensor(self, array) -> torch.Tensor:
        tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).to(self.device)
        if self.channels_last and tensor.ndim == 4:
            tensor = tensor.contiguous(memory_format=torch.channels_last)
        return tensor

    def _run(self, *inputs) -> np.ndarray:
        with torch.inference_mode():
            return self._activate(self.model(*(self._tensor(a) for a in inputs))).float().cpu().numpy()

    def dense(self, x: np.ndarray, *, progress=None) -> np.ndarray:
        """Per-pixel output of the normalised image ``x``: ``(y, x)`` or ``(C, y, x)`` in; ``(y, x)`` out for one
        output channel, else ``(K, y, x)``."""
        x = np.asarray(x)
        if x.ndim == 2:
            x = x[None]
        out = predict_tiled(self._run, x, tile=self.tile, halo=self.halo, multiple=self.multiple, progress=progress)
        return out[0] if out.shape[0] == 1 else out

    def __call__(self, x: np.ndarray, *, progress=None) -> np.ndarray:
        """Probability (or output) map of the normalised image ``x``: same as :meth:`dense`."""
        return self.dense(x, progress=progress)

    def cutouts(self, batch, *extra) -> np.ndarray:
        """Outputs for ``(N, C, h, w)`` cutouts (``extra``: further per-cutout inputs, e.g. a validity mask),
        ``batch_size`` at a time; ``(N, K)`` for a regression/classification head, ``(N, K, h, w)`` for an
        image output."""
        batch = np.asarray(batch)
        if batch.ndim == 3:
            batch = batch[:, None]
        parts = [self._run(batch[i: i + self.batch_size], *(np.asarray(e)[i: i + self.batch_size] for e in extra))
                 for i in range(0, len(batch), self.batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0,), np.float32)
