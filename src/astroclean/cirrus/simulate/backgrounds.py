"""The real multi-band frames that mock cirrus is injected into, split into train and benchmark regions.

Band mapping into the model's three channels (g, r, i):

- SDSS g, r, i -> g, r, i (nanomaggies, zero point 22.5, 1.19"/px, gains 3.85/4.735/5.15 e-/count and
  NMGY nanomaggies/count from the header);
- Legacy Survey DR coadd g, r, z -> g, r, i (z stands in for i; nanomaggies, 22.5, 0.262"/px);
- DECam CP cutouts g, r, z (two CCDs, 100x100) -> g, r, i; their headers carry no zero point, so one is
  assumed that puts the 3-sigma (10"x10") depth at 28.5 mag/arcsec^2 (benchmark only, stated in tables);
- DES r (counts/s, MAGZERO 30, GAIN) -> r copied into all three channels (single-band mode).

Train and benchmark use disjoint regions of each frame: the first 60 % of the columns train, the last
40 % benchmark (rows for the square Legacy and DES cutouts are split the same way). The DECam cutouts
are benchmark only (too small to train on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from astroclean.errors import AstrocleanFileError, AstrocleanValueError

__all__ = ["Frame", "load_frames", "data_dir", "SDSS_GAINS"]

SDSS_GAINS = {"g": 3.85, "r": 4.735, "i": 5.15}
TRAIN_FRACTION = 0.6


def data_dir(path=None) -> Path:
    """The real-data folder: ``path``, else $ASTROCLEAN_DATA_DIR (:func:`astroclean.simulate.common.resolve_data_dir`)."""
    from astroclean.simulate.common import resolve_data_dir

    return resolve_data_dir(path, need="optical frames for mock cirrus")


@dataclass(frozen=True)
class Frame:
    """A real multi-band background (band, y, x) with its calibration."""

    name: str
    instrument: str
    data: np.ndarray                 # float32 (3, y, x), in the frame's units
    bands: tuple                     # the frame's own band names, in channel order
    zeropoint: float                 # AB magnitude of one data unit
    pixel_scale: float               # arcsec / px
    gain: tuple = (None, None, None)  # electrons per data unit, per channel (None: no Poisson term)
    band_map: str = ""
    headers: tuple = ()
    meta: dict = field(default_factory=dict)

    def region(self, split: str) -> "Frame":
        """The train (first 60 %) or benchmark (last 40 %) part along the longer axis."""
        if split not in ("train", "benchmark", "all"):
            raise AstrocleanValueError(f"split must be 'train', 'benchmark' or 'all', got {split!r}")
        if split == "all":
            return self
        axis = 2 if self.data.shape[2] >= self.data.shape[1] else 1
        n = self.data.shape[axis]
        cut = int(round(n * TRAIN_FRACTION))
        sl = slice(0, cut) if split == "train" else slice(cut, n)
        data = self.data[:, :, sl] if axis == 2 else self.data[:, sl, :]
        return Frame(f"{self.name}[{split}]", self.instrument, np.ascontiguousarray(data), self.bands,
                     self.zeropoint, self.pixel_scale, self.gain, self.band_map, self.headers,
                     {**self.meta, "split": split})


def _read(path):
    """(float32 data, header) of the first 2-D image HDU, read by the floor (``astroclean.io.read_image``)."""
    from astroclean.io.read import read_image

    image = read_image(path)
    return np.asarray(image.data, dtype=np.float32), image.header


def _scale(header) -> float:
    import warnings

    from astropy.wcs import WCS

    from astroclean.photometry import pixel_scale_arcsec

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # RADECSYS / datfix notes of the survey headers
        return pixel_scale_arcsec(WCS(header, naxis=2))


def _sdss(root):
    data, headers = [], []
    for b in "gri":
        d, h = _read(root / "optical" / "sdss_gri" / f"reprojected_sdss_{b}.fits")
        data.append(d)
        headers.append(h)
    nmgy = float(headers[0].get("NMGY", 0.0046))
    gains = tuple(SDSS_GAINS[b] / nmgy for b in "gri")  # electrons per nanomaggy
    return Frame("sdss", "SDSS", np.stack(data), ("g", "r", "i"), 22.5, _scale(headers[0]), gains,
                 "g,r,i -> g,r,i", tuple(headers))


def _legacy(root):
    folder = root / "optical" / "legacy_survey_grz"
    data, headers = [], []
    for b in "grz":
        path, = sorted(folder.glob(f"*-image-{b}.fits.fz"))
        d, h = _read(path)
        data.append(d)
        headers.append(h)
    return Frame("legacy", "LegacySurvey", np.stack(data), ("g", "r", "z"), 22.5, _scale(headers[0]),
                 (None, None, None), "g,r,z -> g,r,i", tuple(headers))


def _des(root):
    path, = sorted((root / "optical" / "des_r").glob("*_r.fits.fz"))
    d, h = _read(path)
    gain = float(h.get("GAIN", 0) or 0) or None
    return Frame("des", "DES", np.stack([d, d, d]), ("r", "r", "r"), float(h.get("MAGZERO", 30.0)), _scale(h),
                 (gain, gain, gain), "r -> g,r,i (copied)", (h,))


def _decam(root):
    folder = root / "optical" / "decam_grz"
    frames = []
    for ccd in ("S4", "S9"):
        data, headers = [], []
        for b in "grz":
            path, = sorted(folder.glob(f"*_ooi_{b}_ls9.{ccd}.fits"))
            d, h = _read(path)
            data.append(d[:100, :100])
            headers.append(h)
        stack = np.stack(data)
        stack = stack - np.median(stack, axis=(1, 2), keepdims=True)
        frames.append(Frame(f"decam-{ccd}", "DECam", stack, ("g", "r", "z"), np.nan, 0.262, (None, None, None),
                            "g,r,z -> g,r,i (zero point assumed: 3-sigma 10\" depth = 28.5)", tuple(headers)))
    return frames


def load_frames(*, split: str = "all", data_dir_path=None, instruments=("SDSS", "LegacySurvey", "DES", "DECam")):
    """The real frames of ``split``, as :class:`Frame` objects.

    Raises
    ------
    AstrocleanFileError
        The data folder is missing (pass ``data_dir_path`` or set ASTROCLEAN_DATA_DIR).
    """
    root = data_dir(data_dir_path)
    if not (root / "optical").is_dir():  # pragma: no cover - a wrong folder
        raise AstrocleanFileError(f"real optical frames not found under {root}; pass --data-dir or set "
                                  "ASTROCLEAN_DATA_DIR to the shared data folder")
    frames = []
    if "SDSS" in instruments:
        frames.append(_sdss(root))
    if "LegacySurvey" in instruments:
        frames.append(_legacy(root))
    if "DES" in instruments:
        frames.append(_des(root))
    if "DECam" in instruments and split in ("benchmark", "all"):
        frames.extend(_decam(root))
        frames = [f if f.instrument != "DECam" else f for f in frames]
    out = []
    for f in frames:
        if f.instrument == "DECam":
            out.append(f if split == "all" else Frame(f.name + "[benchmark]", f.instrument, f.data, f.bands,
                                                      f.zeropoint, f.pixel_scale, f.gain, f.band_map, f.headers,
                                                      {"split": "benchmark"}))
        else:
            out.append(f.region(split))
    return out
