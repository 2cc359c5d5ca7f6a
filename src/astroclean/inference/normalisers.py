"""Registered input normalisers: a model card names one (``inputs["normaliser"]``), the code looks it up.

A normaliser is a callable plus a one-line description. The floor registers
``sky-noise-asinh`` (:func:`astroclean.inference.normalise.normalise`, per-pixel detection
on whole images); a task registers its own in its slice (``cutout-linear`` in
``astroclean.sources.normalise``), and the registry imports that module on demand.

Example
-------
>>> from astroclean.inference.normalisers import get_normaliser, list_normalisers
>>> "sky-noise-asinh" in list_normalisers()
True
>>> get_normaliser("sky-noise-asinh").description.startswith("x = asinh")
True
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from astroclean.errors import AstrocleanKeyError, AstrocleanValueError

_NORMALISERS: dict = {}
#: Where a registered name is defined, for names registered by a task's slice (imported on demand).
_HOMES = {"sky-noise-asinh": "astroclean.inference.normalise", "cutout-linear": "astroclean.sources.normalise",
          "sky-noise-asinh+noise": "astroclean.cosmicrays.features", "asinh-uvis-noise": "astroclean.clusters.network",
          "cirrus-asinh": "astroclean.cirrus.preprocess", "cirrus-reference": "astroclean.cirrus.preprocess"}


@dataclass(frozen=True)
class Normaliser:
    """A registered normaliser: ``function`` and its ``description`` (what the card's reader needs)."""

    name: str
    function: Callable
    description: str


def register_normaliser(name: str, function: Callable, *, description: str) -> Callable:
    """Register ``function`` under ``name``; returns ``function``."""
    existing = _NORMALISERS.get(name)
    if existing is not None and existing.function is not function:
        raise AstrocleanValueError(f"a normaliser named {name!r} is already registered")
    _NORMALISERS[name] = Normaliser(name, function, description)
    return function


def get_normaliser(name: str) -> Normaliser:
    """The normaliser registered as ``name``.

    Raises
    ------
    AstrocleanKeyError
        Unknown name; the message lists the known ones.
    """
    if name not in _NORMALISERS and name in _HOMES:
        importlib.import_module(_HOMES[name])
    if name not in _NORMALISERS:
        raise AstrocleanKeyError(f"unknown normaliser {name!r}; known: {', '.join(list_normalisers())}")
    return _NORMALISERS[name]


def list_normalisers() -> list[str]:
    """Names of the known normalisers (registered or with a known home)."""
    return sorted(set(_NORMALISERS) | set(_HOMES))
