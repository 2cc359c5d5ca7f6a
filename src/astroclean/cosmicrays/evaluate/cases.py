"""One benchmark case: a contaminated image, its clean original and the truth.

Every analysis of the benchmark (detection metrics, near-star regions,
photometry, density sweeps, self-tests) consumes these, and every detector
(ours or a peer's) is run on ``case.image``.

Example
-------
>>> import numpy as np
>>> from astroclean.cosmicrays.evaluate.cases import BenchmarkCase
>>> z = np.zeros((4, 4), "f4"); f = np.zeros((4, 4), bool)
>>> case = BenchmarkCase(name="demo", flavour="ground", image=z, clean=z, truth=f, snr=z, bad=f, noise=z + 1)
>>> case.n_cr_pixels
0
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class BenchmarkCase:
    """A contaminated image with everything needed to score a detector on it.

    Attributes
    ----------
    name : str
        Unique, e.g. ``"space/cosmos_south/0"``.
    flavour : {"space", "ground", "crowded"}
    image : ndarray (y, x) float32
        Clean background + injected cosmic rays (what detectors see).
    clean : ndarray (y, x) float32
        The same image before injection.
    truth : ndarray of bool
        Injected cosmic-ray footprints (the dilated injected mask).
    snr : ndarray float32
        Injected signal / local noise per pixel (0 outside the truth).
    bad : ndarray of bool
        Pixels excluded from scoring (bad, NaN, saturated).
    noise : ndarray float32
        1-sigma noise per pixel (image units).
    variance : ndarray or None
        Variance plane handed to detectors that use one.
    gain, read_noise, saturation : float or None
        Detector metadata in image units (gain: electrons per image unit).
    meta : dict
        Background source, injected density, library split, seed...
    """

    name: str
    flavour: str
    image: np.ndarray
    clean: np.ndarray
    truth: np.ndarray
    snr: np.ndarray
    bad: np.ndarray
    noise: np.ndarray
    variance: np.ndarray | None = None
    gain: float | None = None
    read_noise: float | None = None
    saturation: float | None = None
    meta: dict = field(default_factory=dict)

    @property
    def n_cr_pixels(self) -> int:
        return int((self.truth & ~self.bad).sum())

    @property
    def shape(self):
        return self.image.shape
