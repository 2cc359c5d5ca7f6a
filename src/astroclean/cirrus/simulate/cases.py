"""Held-out and training cases at the working scale: real frame + mock cirrus + truth.

A case holds the binned image (band, y, x) in the frame's units, the per-band
pixel noise, the masking truth (sources of the cirrus-free frame, grown: see
:func:`astroclean.cirrus.masking.reference_mask`), the cirrus truth (mock r-band
surface brightness brighter than the frame's 3-sigma 10"x10" depth and not
under the source truth) and the mock's r-band surface brightness map.

Example
-------
>>> from astroclean.cirrus.simulate.cases import make_cases   # doctest: +SKIP
>>> cases = make_cases(split="benchmark", n_per_frame=4, rng=1)   # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from astroclean.cirrus.masking import reference_mask
from astroclean.cirrus.preprocess import bin_stack, box_depth, flux_to_sb, sky_noise, working_factor
from astroclean.cirrus.simulate.backgrounds import load_frames
from astroclean.cirrus.simulate.fields import TRAIN_SETTING, GeneratorSetting
from astroclean.cirrus.simulate.inject import inject_cirrus

__all__ = ["make_cases", "case_from_frame", "ASSUMED_DEPTH"]

ASSUMED_DEPTH = 28.5   # r-band 3-sigma 10" depth given to frames without a zero point (DECam cutouts)


def _prepare(frame):
    k = working_factor(frame.pixel_scale)
    clean = bin_stack(frame.data, k)
    _, noise = sky_noise(clean)
    ref = reference_mask(clean, noise)
    scale = frame.pixel_scale * k
    zp = frame.zeropoint
    from astroclean.background import background_and_noise

    flat = clean[1] - background_and_noise(clean[1], ref, box=16)[0]   # depth of the noise, not of star halos
    if not np.isfinite(zp):
        _, sig = box_depth(flat, ref, pixel_scale=scale, zeropoint=0.0)
        zp = ASSUMED_DEPTH + 2.5 * np.log10(3 * sig / frame.pixel_scale**2)
    depth, _ = box_depth(flat, ref, pixel_scale=scale, unit_scale=frame.pixel_scale, zeropoint=zp)
    return dict(k=k, ref=ref, scale=scale, zp=float(zp), depth=float(depth))


def case_from_frame(frame, *, rng, setting: GeneratorSetting = TRAIN_SETTING, prepared=None) -> dict:
    """One mock case (see module docstring) from a :class:`~.backgrounds.Frame`."""
    prep = prepared or _prepare(frame)
    image, mock = inject_cirrus(frame, rng=rng, setting=setting, zeropoint=prep["zp"])
    k = prep["k"]
    x = bin_stack(image, k)
    _, noise = sky_noise(x)
    flux_r = bin_stack(mock.flux[1], k)
    sb = flux_to_sb(flux_r, zeropoint=prep["zp"], pixel_scale=frame.pixel_scale).astype(np.float32)
    sb[~np.isfinite(sb)] = 99.0
    truth = (sb <= prep["depth"]) & ~prep["ref"]
    return dict(x=x, noise=noise.astype(np.float32), truth=truth, ignore=prep["ref"].copy(), source_truth=prep["ref"],
                sb_r=sb, depth=prep["depth"], zeropoint=prep["zp"], pixel_scale=prep["scale"], unit_scale=frame.pixel_scale,
                instrument=frame.instrument, frame=frame.name, setting=setting.name, params=mock.params)


def make_cases(*, split: str, n_per_frame: int, rng, setting: GeneratorSetting = TRAIN_SETTING, data_dir=None,
               instruments=("SDSS", "LegacySurvey", "DES")) -> list[dict]:
    """``n_per_frame`` mock cases on each real frame region of ``split``."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    cases = []
    for frame in load_frames(split=split, data_dir_path=data_dir, instruments=instruments):
        prep = _prepare(frame)
        for _ in range(n_per_frame):
            cases.append(case_from_frame(frame, rng=rng, setting=setting, prepared=prep))
    return cases
