"""How far cleaning moved the fluxes of sources: the comparison metric (the measuring lives in
:mod:`astroclean.photometry`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.background import MAD_TO_SIGMA

__all__ = ["PhotometricContamination", "photometric_contamination"]


@dataclass(frozen=True)

class PhotometricContamination:
    """How far cleaning moved the fluxes of sources.

    Attributes
    ----------
    n_sources : int
        Sources with finite fluxes and a positive error.
    ratio_median, ratio_scatter : float
        Median and ``1.4826 * MAD`` of ``flux_test / flux_clean`` over those
        with ``flux_clean > 0``.
    fraction_moved : float
        Fraction with ``|flux_test - flux_clean| > nsigma * error``.
    median_deviation : float
        Median of ``(flux_test - flux_clean) / error`` (bias in sigma).
    nsigma : float
    """

    n_sources: int
    ratio_median: float
    ratio_scatter: float
    fraction_moved: float
    median_deviation: float
    nsigma: float

    def as_row(self) -> dict:
        """The fields as a flat ``dict`` for tables."""
        return asdict(self)


def photometric_contamination(flux_clean, flux_test, error, *, nsigma=3.0) -> PhotometricContamination:
    """Compare fluxes measured on a clean image and on a test (e.g. cleaned) image.

    Parameters
    ----------
    flux_clean, flux_test, error : array_like, one value per source
        ``error`` is the 1-sigma flux uncertainty (e.g. of the clean flux).
        Sources with a non-finite value or ``error <= 0`` are skipped.
    nsigma : float
        Deviation counted as "moved".

    Returns
    -------
    PhotometricContamination
        NaN statistics when no source is usable.

    Examples
    --------
    >>> c = photometric_contamination([100, 200, 300, 400], [100, 210, 240, 400], [2, 2, 2, 2])
    >>> c.n_sources, c.ratio_median, c.fraction_moved, c.median_deviation
    (4, 1.0, 0.5, 0.0)
    """
    clean, test, err = (np.asarray(a, dtype=np.float64).ravel() for a in (flux_clean, flux_test, error))
    if not clean.shape == test.shape == err.shape:
        raise AstrocleanValueError(
            f"flux_clean, flux_test and error need one value per source, got sizes {clean.size}, {test.size}, {err.size}"
        )
    if not nsigma > 0:
        raise AstrocleanValueError(f"nsigma must be positive, got {nsigma!r}")
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(clean) & np.isfinite(test) & np.isfinite(err) & (err > 0)
    clean, test, err = clean[ok], test[ok], err[ok]
    if clean.size == 0:
        return PhotometricContamination(0, math.nan, math.nan, math.nan, math.nan, float(nsigma))
    deviation = (test - clean) / err
    positive = clean > 0
    ratio = test[positive] / clean[positive]
    if ratio.size:
        ratio_median = float(np.median(ratio))
        ratio_scatter = MAD_TO_SIGMA * float(np.median(np.abs(ratio - ratio_median)))
    else:
        ratio_median = ratio_scatter = math.nan
    return PhotometricContamination(
        n_sources=int(clean.size),
        ratio_median=ratio_median,
        ratio_scatter=ratio_scatter,
        fraction_moved=float(np.mean(np.abs(deviation) > nsigma)),
        median_deviation=float(np.median(deviation)),
        nsigma=float(nsigma),
    )
