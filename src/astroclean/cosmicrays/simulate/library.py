"""Cosmic-ray stamps and the shipped library of REAL cosmic-ray hits.

A :class:`CosmicRayStamp` is one hit: ``values`` (deposited charge in
electrons above the local background, zero outside the detected core) and
``footprint`` (the core grown by a 3x3 dilation: the truth mask an injected
copy contributes). The same format comes from the real library
(:func:`load_cosmic_ray_library`), from :func:`extract_cosmic_rays` and from
the track simulator (:func:`simulate_cosmic_ray`).

The shipped library (``astroclean/data/cr_library_{train,benchmark}.npz``) is
built by ``python scripts/build_cr_library.py --data-dir DATA_DIR``
from a 5400 s VLT/UVES blue echelle frame (hits between the orders) and the
two real tracks of DECam Community Pipeline cutouts. Its ``meta`` records the
split rule; the two splits share no hit.

Example
-------
>>> from astroclean.cosmicrays.simulate import load_cosmic_ray_library
>>> lib = load_cosmic_ray_library("train")
>>> len(lib) > 100, lib.meta["split"]
(True, 'train')
>>> stamp = lib[0]
>>> stamp.values.shape == stamp.footprint.shape
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from astroclean.errors import AstrocleanKeyError, AstrocleanValueError
from astroclean.io.npz import load_npz, save_npz
from astroclean.simulate.common import PACKAGE_DATA, as_rng

__all__ = ["CosmicRayStamp", "CosmicRayLibrary", "load_cosmic_ray_library", "SPLITS"]

SPLITS = ("train", "benchmark")
_FORMAT = "astroclean-cr-library-1"


@dataclass(frozen=True)
class CosmicRayStamp:
    """One cosmic-ray hit.

    Attributes
    ----------
    values : ndarray (h, w) float32
        Charge in electrons above the local background; 0 outside the core.
    footprint : ndarray (h, w) bool
        Core dilated by 3x3 (the truth mask of an injected copy).
    origin : str
        Where it comes from: ``"uves:<frame>"``, ``"decam:<exposure>"`` or
        ``"simulated:<kind>"``.
    position : tuple of int
        (y, x) of the stamp's lower-left corner in its source frame; (-1, -1)
        for simulated hits.
    """

    values: np.ndarray
    footprint: np.ndarray
    origin: str
    position: tuple = (-1, -1)

    def __post_init__(self):
        if self.values.shape != self.footprint.shape or self.values.ndim != 2:
            raise AstrocleanValueError(
                f"stamp values {self.values.shape} and footprint {self.footprint.shape} must be equal 2-D shapes"
            )

    @property
    def core(self) -> np.ndarray:
        """Pixels that carry charge (``values > 0``)."""
        return self.values > 0

    @property
    def peak(self) -> float:
        """Largest deposit in one pixel (electrons)."""
        return float(self.values.max())

    @property
    def total(self) -> float:
        """Total deposited charge (electrons)."""
        return float(self.values.sum())

    @property
    def n_pixels(self) -> int:
        """Pixels in the footprint (truth mask)."""
        return int(self.footprint.sum())

    @property
    def n_core(self) -> int:
        """Pixels with charge."""
        return int(self.core.sum())


@dataclass(frozen=True)
class CosmicRayLibrary:
    """A collection of :class:`CosmicRayStamp` with provenance.

    Attributes
    ----------
    stamps : tuple of CosmicRayStamp
    meta : dict
        ``split``, ``split_rule``, ``sources`` and extraction parameters.
    """

    stamps: tuple
    meta: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.stamps)

    def __getitem__(self, index):
        return self.stamps[index]

    def __iter__(self):
        return iter(self.stamps)

    @property
    def peaks(self) -> np.ndarray:
        return np.array([s.peak for s in self.stamps])

    @property
    def sizes(self) -> np.ndarray:
        """Core pixels of every hit."""
        return np.array([s.n_core for s in self.stamps], dtype=int)

    @property
    def origins(self) -> list:
        return [s.origin for s in self.stamps]

    def select(self, keep) -> "CosmicRayLibrary":
        """A library of the stamps where ``keep`` (bool array or callable on a stamp) is true."""
        flags = [bool(keep(s)) for s in self.stamps] if callable(keep) else list(np.asarray(keep, bool))
        if len(flags) != len(self.stamps):
            raise AstrocleanValueError(f"keep has {len(flags)} entries for {len(self.stamps)} stamps")
        return CosmicRayLibrary(tuple(s for s, k in zip(self.stamps, flags) if k), dict(self.meta))

    def sample(self, rng) -> CosmicRayStamp:
        """One stamp drawn uniformly with ``rng``."""
        if not self.stamps:
            raise AstrocleanValueError("the cosmic-ray library is empty")
        return self.stamps[int(as_rng(rng).integers(len(self.stamps)))]

    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write the library to a compressed ``.npz`` (atomic; no pickle)."""
        names = sorted({s.origin for s in self.stamps})
        code = {n: i for i, n in enumerate(names)}
        arrays = {
            "format": np.array(_FORMAT),
            "values": np.concatenate([s.values.ravel() for s in self.stamps]).astype(np.float32)
            if self.stamps else np.zeros(0, np.float32),
            "footprint": np.concatenate([s.footprint.ravel() for s in self.stamps]).astype(bool)
            if self.stamps else np.zeros(0, bool),
            "shapes": np.array([s.values.shape for s in self.stamps], dtype=np.int32).reshape(-1, 2),
            "positions": np.array([s.position for s in self.stamps], dtype=np.int32).reshape(-1, 2),
            "origin_code": np.array([code[s.origin] for s in self.stamps], dtype=np.int32),
            "origin_names": np.array(names, dtype=str),
            "meta": np.array(json.dumps(self.meta, sort_keys=True)),
        }
        return save_npz(path, arrays, overwrite=overwrite)

    @classmethod
    def load(cls, path) -> "CosmicRayLibrary":
        """Read a library written by :meth:`save`."""
        a = load_npz(path)
        if str(a.get("format", "")) != _FORMAT:
            raise AstrocleanValueError(f"{path} is not an astroclean cosmic-ray library ({_FORMAT})")
        names = [str(n) for n in a["origin_names"]]
        stamps, start = [], 0
        for (h, w), pos, oc in zip(a["shapes"], a["positions"], a["origin_code"]):
            n = int(h) * int(w)
            stamps.append(
                CosmicRayStamp(
                    values=a["values"][start:start + n].reshape(h, w).copy(),
                    footprint=a["footprint"][start:start + n].reshape(h, w).copy(),
                    origin=names[int(oc)],
                    position=(int(pos[0]), int(pos[1])),
                )
            )
            start += n
        return cls(tuple(stamps), json.loads(str(a["meta"])))


def library_path(split: str) -> Path:
    """Path of the shipped library file of ``split``."""
    if split not in SPLITS:
        raise AstrocleanKeyError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    return PACKAGE_DATA / f"cr_library_{split}.npz"


def load_cosmic_ray_library(split: str = "train", *, path=None) -> CosmicRayLibrary:
    """Load the shipped library of real cosmic-ray hits.

    Parameters
    ----------
    split : {"train", "benchmark"}
        The two splits hold disjoint hits; ``meta["split_rule"]`` says how
        they were divided.
    path : str or Path, optional
        Read this file instead of the shipped one.

    Returns
    -------
    CosmicRayLibrary
        Stamps in electrons above background.

    Raises
    ------
    AstrocleanKeyError
        Unknown split.
    AstrocleanFileError
        The file is missing (rebuild with ``scripts/build_cr_library.py``).

    Example
    -------
    >>> lib = load_cosmic_ray_library("benchmark")
    >>> sorted({o.split(":")[0] for o in lib.origins})
    ['decam', 'uves']
    """
    target = Path(path) if path is not None else library_path(split)
    return CosmicRayLibrary.load(target)
