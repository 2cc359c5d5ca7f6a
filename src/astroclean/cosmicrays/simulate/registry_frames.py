"""Real frames extracted from registry packages: the "unseen instrument" benchmark part and extra
training backgrounds.

``scripts/build_cr_backgrounds.py`` writes them (``astroclean/data/cr_backgrounds/<role>/``) from
pinned PyPI wheels and Debian packages, with their licences (``docs/cr_backgrounds.md``). Two
roles:

``"unseen"``
    Instruments that no shipped model is trained or tuned on (UKIRT WFCAM, SAAO 1.0 m STE3,
    KPNO CCD, an amateur Aspen CG16, Gemini GMOS-S): read only by the benchmark. Their own
    sharp outliers (real cosmic rays, hot pixels) are in ``mask``.
``"train"``
    Extra training backgrounds (a DSS plate of M13, an optical image of NGC 1316).

Variance: the robust local estimate (as for the other backgrounds) plus the Poisson variance of
the sources when the gain is known. Where the header gives no gain but the frame still holds its
sky (raw frames), an *effective* gain ``sky / sigma_sky**2`` (photon-limited sky) is recorded in
``meta["effective_gain"]`` and used as the frame's gain, so that classical detectors get a fair
noise model.

Example
-------
>>> from astroclean.cosmicrays.simulate.registry_frames import load_registry_frames
>>> frames = load_registry_frames("unseen")
>>> len(frames) >= 4 and all(f.variance is not None for f in frames)
True
"""

from __future__ import annotations

import json

import numpy as np

from astroclean.errors import AstrocleanFileError, AstrocleanKeyError
from astroclean.image import Image, as_image
from astroclean.io.npz import load_npz
from astroclean.background import block_median, noise_map
from astroclean.simulate.common import PACKAGE_DATA

__all__ = ["load_registry_frames", "ROLES", "FRAMES_DIR"]

ROLES = ("unseen", "train")
FRAMES_DIR = PACKAGE_DATA / "cr_backgrounds"


def _effective_gain(data, bad, sigma):
    sky = float(np.median(data[~bad]))
    s = float(np.median(sigma[~bad]))
    if sky <= 10 * s or s <= 0:
        return None               # sky subtracted (or no sky): the Poisson part cannot be told
    gain = sky / s ** 2
    return gain if 0.05 < gain < 50 else None


def _frame(path) -> Image:
    a = load_npz(path)
    meta = json.loads(str(a["meta"]))
    data, bad = a["data"].astype(np.float32), a["mask"].astype(bool)
    sigma = noise_map(data, mask=bad)
    gain = meta.get("gain")
    if gain is None:
        gain = _effective_gain(data, bad, sigma)
        meta["effective_gain"] = gain
    var = sigma.astype(np.float64) ** 2
    if gain:
        above = np.clip(data - block_median(data, mask=bad), 0.0, None)
        var = var + np.where(bad, 0.0, above) / gain
    meta["electrons_per_unit"] = float(gain) if gain else float("nan")
    return as_image(data, mask=bad, variance=var.astype(np.float32), name=meta["name"], unit=meta.get("unit"),
                    gain=float(gain) if gain else None, read_noise=meta.get("read_noise"),
                    saturation=meta.get("saturation"), meta=meta)


def load_registry_frames(role: str = "unseen", *, names=None) -> list:
    """Frames of one role as Images (variance, mask, gain, meta with instrument and licence).

    Parameters
    ----------
    role : {"unseen", "train"}
    names : sequence of str, optional
        Only these frames (default: all of the role, sorted by name).

    Returns
    -------
    list of Image

    Raises
    ------
    AstrocleanKeyError
        Unknown role or frame name.
    AstrocleanFileError
        The package data is missing (rebuild it with ``scripts/build_cr_backgrounds.py``).
    """
    if role not in ROLES:
        raise AstrocleanKeyError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    folder = FRAMES_DIR / role
    paths = sorted(folder.glob("*.npz"))
    if not paths:
        raise AstrocleanFileError(f"no frames in {folder}; rebuild them with `python scripts/build_cr_backgrounds.py "
                                  "--cache DIR --fetch`")
    if names is not None:
        known = {p.stem: p for p in paths}
        missing = [n for n in names if n not in known]
        if missing:
            raise AstrocleanKeyError(f"unknown {role} frames {missing}; known: {sorted(known)}")
        paths = [known[n] for n in names]
    return [_frame(p) for p in paths]
