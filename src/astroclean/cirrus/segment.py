"""Loaded cirrus models: the registry's networks run by the floor's tiled ``Predictor``.

The models are the shared U-Net (``astroclean.models.unet``, presets in :mod:`astroclean.cirrus.nets`)
built from their card by the open registry (:func:`astroclean.models.create_model` for the shipped
ones; a folder of cards and weights for models being trained). Inference is the floor's
:class:`~astroclean.inference.Predictor`: the image is reflect-padded by ``halo`` pixels and cut
into ``tile`` x ``tile`` cores, each read with ``halo`` pixels of context on every side; only the
core of each window's output is kept, so every pixel gets exactly one prediction (BatchNorm folded,
eval mode).

Example
-------
>>> from astroclean.cirrus.segment import load_cirrus_model    # doctest: +SKIP
>>> predictor = load_cirrus_model("cirrus-gri")                 # doctest: +SKIP
>>> probability = predictor(inputs)        # (4, y, x) normalised inputs -> (y, x)   doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from astroclean.errors import AstrocleanValueError

__all__ = ["load_cirrus_model", "CLASSICAL", "HALO"]

CLASSICAL = "classical"
HALO = 64   # context (working-scale pixels) each side of a tile: the cirrus benchmark's setting


def _network(name: str, directory):
    from astroclean.models.card import ModelCard
    from astroclean.models.registry import build_architecture, check_model_task, create_model, load_weights

    if directory is None:
        card = check_model_task(name, "cirrus")
        if card.weights_file is None:
            raise AstrocleanValueError(f"model {name!r} is an untrained architecture; pick a trained cirrus model "
                                       "(astroclean models)")
        return create_model(name)
    path = Path(directory) / f"{name}.json"
    if not path.is_file():
        raise AstrocleanValueError(f"no card {path}; train the model first or pick another folder")
    card = ModelCard.read(path)
    if card.task != "cirrus" or card.weights_file is None:
        raise AstrocleanValueError(f"{path} is not a trained cirrus model (task {card.task!r})")
    model = load_weights(build_architecture(card.architecture), card, directory=directory)
    model.card = card
    return model.eval()


def load_cirrus_model(name: str, *, directory=None, tile: int = 512, halo: int = HALO, device=None):
    """Model ``name`` (sha256 checked) in a tiled :class:`~astroclean.inference.Predictor` (sigmoid output).

    ``directory``: a folder with ``<name>.json`` and its weights (default: the shipped weights, through
    the registry). ``halo`` is rounded up to the network's pooling factor.
    """
    from astroclean.inference.predictor import Predictor

    model = _network(name, directory)
    multiple = getattr(model, "multiple", 1)
    return Predictor(model, device=device or "cpu", tile=tile, halo=-(-halo // multiple) * multiple)
