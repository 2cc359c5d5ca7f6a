"""Which shipped cosmic-ray model suits an image, read from its header.

``space`` for images from space telescopes (``TELESCOP`` HST, JWST, Euclid, ..., or an HST/JWST
instrument in ``INSTRUME``), ``ground`` otherwise: the same choice as the benchmark's
``astroclean:auto`` (which scores 0.946 with ``space`` against 0.835 with ``ground`` on HST frames,
docs/benchmark.md). An explicit model always wins; one that contradicts the header gets a warning.

Example
-------
>>> from astropy.io import fits
>>> model_for_header(fits.Header({"TELESCOP": "HST", "INSTRUME": "ACS"}))
('space', 'TELESCOP=HST')
>>> model_for_header(fits.Header({"TELESCOP": "CTIO 4.0-m telescope"}))
('ground', 'TELESCOP=CTIO 4.0-m telescope')
>>> model_for_header(None)
('ground', 'no TELESCOP/INSTRUME in the header')
"""

from __future__ import annotations

import warnings

SPACE_TELESCOPES = ("HST", "JWST", "EUCLID", "SPITZER", "ROMAN", "CHEOPS", "GALEX", "SWIFT", "KEPLER", "TESS")
SPACE_INSTRUMENTS = ("ACS", "WFC3", "WFPC2", "STIS", "NICMOS", "NIRCAM", "NIRISS", "MIRI", "NIRSPEC", "VIS")
AUTO = "auto"


def model_for_header(*headers) -> tuple[str, str]:
    """``(model, reason)``: ``"space"`` or ``"ground"`` and the card that decided it."""
    for header in headers:
        if header is None:
            continue
        telescope = str(header.get("TELESCOP", "") or "").strip()
        if telescope:
            space = any(telescope.upper().startswith(name) for name in SPACE_TELESCOPES)
            return ("space" if space else "ground"), f"TELESCOP={telescope}"
    for header in headers:
        if header is None:
            continue
        instrument = str(header.get("INSTRUME", "") or "").strip()
        if instrument:
            space = instrument.upper() in SPACE_INSTRUMENTS
            return ("space" if space else "ground"), f"INSTRUME={instrument}"
    return "ground", "no TELESCOP/INSTRUME in the header"


def choose_model(requested, image) -> tuple[str, str]:
    """The model to run on ``image`` (an :class:`~astroclean.image.Image`) and why.

    ``requested`` None or ``"auto"``: by header (:func:`model_for_header`). A named model is used as
    given; when the header says otherwise (``ground`` on an HST frame), a warning says so.
    """
    headers = (getattr(image, "header", None), (getattr(image, "meta", None) or {}).get("primary_header"))
    suggested, reason = model_for_header(*headers)
    if requested in (None, AUTO):
        return suggested, f"auto: {reason}"
    if requested in ("ground", "space") and requested != suggested and not reason.startswith("no "):
        warnings.warn(f"{getattr(image, 'name', 'image')}: model {requested!r} was asked for, but the header says "
                      f"{reason}, for which {suggested!r} is the model (leave --model out to choose by header)",
                      stacklevel=3)
    return requested, "as asked"
