"""What a PACS map's header says about how to process it: band, observing mode, model.

``WAVELNTH`` (70, 100, 160 um) or ``CAMERA`` (PHOTBLUE, PHOTRED) and ``BLUEBAND`` give the band
(blue 70, green 100, red 160 um); ``OBS_MODE`` gives the mode (``Scan map`` -> scan,
``Point-source photometry`` / chop-nod -> chopnod). The band chooses the PSF and, with the mode,
the mask table; the model is the band's shipped network (``pacs-blue`` for 70 um, ``pacs-red`` for
160 um; 100 um maps use ``pacs-blue``, the closer PSF, see docs/sources.md). Explicit options win;
one that contradicts the header gets a warning.

Example
-------
>>> from astropy.io import fits
>>> s = pacs_setup([fits.Header({"WAVELNTH": 160.0, "OBS_MODE": "Scan map"})])
>>> s.band, s.mode, s.model, s.reason
('red', 'scan', 'pacs-red', 'WAVELNTH=160, OBS_MODE=Scan map')
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

BAND_OF_WAVELENGTH = {70: "blue", 100: "green", 160: "red"}
MODEL_OF_BAND = {"blue": "pacs-blue", "green": "pacs-blue", "red": "pacs-red"}
DEFAULT = ("blue", "scan")


@dataclass(frozen=True)
class PacsSetup:
    """Band, mode and model for one map, where each came from (``reason``: the header cards used)."""

    band: str | None
    mode: str | None
    model: str | None
    reason: str


def _first(headers, key):
    for header in headers:
        if header is not None and header.get(key) not in (None, ""):
            return header.get(key)
    return None


def pacs_setup(headers) -> PacsSetup:
    """Band, mode and model from the headers (the science HDU's, then the primary's); None where silent."""
    headers = [h for h in headers if h is not None]
    reasons, band, mode = [], None, None
    wavelength = _first(headers, "WAVELNTH")
    if wavelength is not None:
        try:
            wl = float(wavelength)
            nearest = min(BAND_OF_WAVELENGTH, key=lambda w: abs(w - wl))
            if abs(nearest - wl) < 15:
                band = BAND_OF_WAVELENGTH[nearest]
                reasons.append(f"WAVELNTH={wl:g}")
        except (TypeError, ValueError):
            pass
    if band is None:
        camera = str(_first(headers, "CAMERA") or "").upper()
        if "RED" in camera:
            band = "red"
        elif "BLUE" in camera:
            blue = str(_first(headers, "BLUEBAND") or "").lower()
            band = "green" if blue in ("blue2", "green") else "blue"
        if band:
            reasons.append(f"CAMERA={camera}")
    obs_mode = str(_first(headers, "OBS_MODE") or "").strip()
    lowered = obs_mode.lower()
    if "scan" in lowered:
        mode = "scan"
    elif "point-source" in lowered or "chop" in lowered or "pointsource" in lowered:
        mode = "chopnod"
    if mode:
        reasons.append(f"OBS_MODE={obs_mode}")
    return PacsSetup(band=band, mode=mode, model=MODEL_OF_BAND.get(band), reason=", ".join(reasons) or
                     "no WAVELNTH/CAMERA/OBS_MODE in the header")


def resolve(headers, *, band=None, mode=None, model=None, label="map") -> PacsSetup:
    """Explicit choices over the header's, the header's over the defaults; warn on a contradiction."""
    found = pacs_setup(headers)
    for name, given, said in (("band", band, found.band), ("mode", mode, found.mode), ("model", model, found.model)):
        if given is not None and said is not None and given != said:
            warnings.warn(f"{label}: --{name} {given} contradicts the header ({found.reason}: {name} {said}); "
                          f"using {given} as asked", stacklevel=3)
    use_band = band or found.band or DEFAULT[0]
    use_mode = mode or found.mode or DEFAULT[1]
    use_model = model or (MODEL_OF_BAND[use_band] if (band or found.band) else None) or "pacs-blue"
    asked = [f"{n}={v}" for n, v in (("band", band), ("mode", mode), ("model", model)) if v is not None]
    reason = "; ".join(filter(None, [found.reason if found.band or found.mode else "", ", ".join(asked) and
                                     f"asked: {', '.join(asked)}"])) or "defaults (no header cards)"
    return PacsSetup(band=use_band, mode=use_mode, model=use_model, reason=reason)
