"""Which shipped cosmic-ray model suits an image, read from its header.

``space`` for images from space telescopes (``TELESCOP`` HST, JWST, Euclid, ..., or an HST/JWST
instrument in ``INSTRUME``), :data:`GROUND_MODEL` (``cr-any-ens``) otherwise: the same choice as the
benchmark's ``astroclean:auto``. Measured (docs/benchmark.md, TPR at FPR 1e-4): on five instruments no model
was trained on, ``cr-any-ens`` 0.871 against 0.857 for ``cr-any`` (the fast model, 1.9x quicker) and 0.661 for
``ground``; on held-out ground frames 0.762 against 0.618 and 0.531; crowded fields 0.722 against 0.732 and
0.764; held-out HST frames 0.942, ``space`` 0.946. An explicit model always wins; one that contradicts the
header gets a warning.

Example
-------
>>> from astropy.io import fits
>>> model_for_header(fits.Header({"TELESCOP": "HST", "INSTRUME": "ACS"}))
('space', 'TELESCOP=HST')
>>> model_for_header(fits.Header({"TELESCOP": "CTIO 4.0-m telescope"}))
('cr-any-ens', 'TELESCOP=CTIO 4.0-m telescope')
>>> model_for_header(None)
('cr-any-ens', 'no TELESCOP/INSTRUME in the header')
"""

from __future__ import annotations

import warnings

SPACE_TELESCOPES = ("HST", "JWST", "EUCLID", "SPITZER", "ROMAN", "CHEOPS", "GALEX", "SWIFT", "KEPLER", "TESS")
SPACE_INSTRUMENTS = ("ACS", "WFC3", "WFPC2", "STIS", "NICMOS", "NIRCAM", "NIRISS", "MIRI", "NIRSPEC", "VIS")
AUTO = "auto"
#: The model for everything that is not from space (issue 10: ``cr-any`` replaced ``ground`` here, then the
#: ensemble ``cr-any-ens`` replaced ``cr-any``, which stays the fast choice).
GROUND_MODEL = "cr-any-ens"
#: Every model of the ``cr-any`` family: ground models for the header warning.
CR_ANY_MODELS = ("cr-any", "cr-any-fs", GROUND_MODEL)
#: Models made for space frames; every other model is a ground model for the header warning.
SPACE_MODELS = ("space",)


def model_for_header(*headers) -> tuple[str, str]:
    """``(model, reason)``: ``"space"`` or :data:`GROUND_MODEL` and the card that decided it."""
    for header in headers:
        if header is None:
            continue
        telescope = str(header.get("TELESCOP", "") or "").strip()
        if telescope:
            space = any(telescope.upper().startswith(name) for name in SPACE_TELESCOPES)
            return ("space" if space else GROUND_MODEL), f"TELESCOP={telescope}"
    for header in headers:
        if header is None:
            continue
        instrument = str(header.get("INSTRUME", "") or "").strip()
        if instrument:
            space = instrument.upper() in SPACE_INSTRUMENTS
            return ("space" if space else GROUND_MODEL), f"INSTRUME={instrument}"
    return GROUND_MODEL, "no TELESCOP/INSTRUME in the header"


def choose_model(requested, image) -> tuple[str, str]:
    """The model to run on ``image`` (an :class:`~astroclean.image.Image`) and why.

    ``requested`` None or ``"auto"``: by header (:func:`model_for_header`). A named model is used as
    given; when the header says otherwise (a ground model on an HST frame, ``space`` on a ground one), a
    warning says so.
    """
    headers = (getattr(image, "header", None), (getattr(image, "meta", None) or {}).get("primary_header"))
    suggested, reason = model_for_header(*headers)
    if requested in (None, AUTO):
        return suggested, f"auto: {reason}"
    mismatch = (requested in SPACE_MODELS) != (suggested in SPACE_MODELS)
    if requested in ("ground", "space", *CR_ANY_MODELS) and mismatch and not reason.startswith("no "):
        warnings.warn(f"{getattr(image, 'name', 'image')}: model {requested!r} was asked for, but the header says "
                      f"{reason}, for which {suggested!r} is the model (leave --model out to choose by header)",
                      stacklevel=3)
    return requested, "as asked"
