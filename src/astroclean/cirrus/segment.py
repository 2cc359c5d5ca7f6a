"""Loaded cirrus models and the tiled, multi-channel sliding-window inference.

The image is reflect-padded by ``halo`` pixels and cut into ``tile`` x ``tile``
cores, each read with ``halo`` pixels of context on every side; only the core of
each window's output is kept, so every pixel gets exactly one prediction, and
with a halo as large as the network's receptive field the result equals a
whole-image pass (BatchNorm folded, eval mode).

Example
-------
>>> import numpy as np
>>> from astroclean.cirrus.segment import tiled
>>> x = np.random.default_rng(0).normal(size=(2, 37, 53)).astype("f4")
>>> np.allclose(tiled(lambda b: b[:, :1], x, tile=16, halo=8), x[:1])
True
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from astroclean.errors import AstrocleanValueError

__all__ = ["tiled", "load_cirrus_model", "NetworkRunner", "CLASSICAL"]

CLASSICAL = "classical"


def tiled(fn, x: np.ndarray, *, tile: int = 512, halo: int = 64, multiple: int = 1) -> np.ndarray:
    """Apply ``fn`` (a (B, C, h, w) -> (B, K, h, w) function) window by window to ``x`` (C, y, x); returns (K, y, x)."""
    if tile % multiple or halo % multiple or tile < multiple:
        raise AstrocleanValueError(f"tile ({tile}) and halo ({halo}) must be positive multiples of {multiple}")
    c, ny, nx = x.shape
    mode = "symmetric"
    padded = np.pad(x, ((0, 0), (halo, halo), (halo, halo)), mode=mode) if halo else x
    out = None
    for y0 in range(0, ny, tile):
        for x0 in range(0, nx, tile):
            y1, x1 = min(y0 + tile, ny), min(x0 + tile, nx)
            win = padded[:, y0: y1 + 2 * halo, x0: x1 + 2 * halo]
            res = fn(win[None])[0]
            if out is None:
                out = np.empty((res.shape[0], ny, nx), dtype=np.float32)
            out[:, y0:y1, x0:x1] = res[:, halo: halo + y1 - y0, halo: halo + x1 - x0]
    return out


@lru_cache(maxsize=8)
def load_cirrus_model(name: str, directory: str | None = None):
    """Build model ``name`` from its card and weights (sha256 checked); eval mode, BatchNorm folded.

    ``directory``: a folder with ``<name>.json`` and its weights (default: the shipped weights).
    TODO(floor): ``astroclean.models.create_model`` once the open registry knows ``kind="cirrus-unet"``.
    """
    from pathlib import Path

    from astroclean.inference.predictor import fold_batchnorm
    from astroclean.models.card import ModelCard
    from astroclean.models.registry import get_card, load_weights
    from astroclean.cirrus.nets import build_cirrus_net

    if directory is not None:
        path = Path(directory) / f"{name}.json"
        if not path.is_file():
            raise AstrocleanValueError(f"no card {path}; train the model first or pick another folder")
        card = ModelCard.read(path)
    else:
        card = get_card(name)
    if card.task != "cirrus" or card.weights_file is None:
        from astroclean.models.registry import list_models

        raise AstrocleanValueError(f"model {name!r} is not a trained cirrus model; choose one of "
                                   f"{', '.join(list_models(task='cirrus')) or 'none shipped'}")
    net = build_cirrus_net(card.architecture)
    load_weights(net, card, directory=directory)
    net = fold_batchnorm(net.eval())
    return net, card


class NetworkRunner:
    """Run a loaded cirrus network on a (C, y, x) input, tiled; returns the sigmoid probability (y, x)."""

    def __init__(self, name: str, *, tile: int = 512, halo: int = 64, device=None, directory=None):
        import torch

        self.model, self.card = load_cirrus_model(name, None if directory is None else str(directory))
        self.name = name
        self.multiple = self.model.multiple
        self.tile = max(self.multiple, tile // self.multiple * self.multiple)
        self.halo = -(-halo // self.multiple) * self.multiple
        self.device = torch.device(device or "cpu")
        self.model = self.model.to(self.device)

    @property
    def sha256(self):
        return self.card.sha256

    def _fn(self, batch):
        import torch

        t = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(self.device)
        with torch.inference_mode():
            return torch.sigmoid(self.model(t)).float().cpu().numpy()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return tiled(self._fn, x, tile=self.tile, halo=self.halo, multiple=self.multiple)[0]
