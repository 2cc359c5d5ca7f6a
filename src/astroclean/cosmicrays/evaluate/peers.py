"""Peer cosmic-ray detectors behind one protocol, so a benchmark treats ours and theirs alike.

Every detector is a :class:`Detector`: ``available()`` says whether it can run
here and why not, ``score(image, ...)`` returns a float map where higher means
more cosmic-ray-like (for a ROC curve), ``detect(image, ...)`` returns the
boolean mask at the method's default operating point. The peers are optional
(``pip install astroclean[peers]``); a missing package or weight file makes
``available()`` false with the reason, and any failure inside a peer is raised
as :class:`DetectorError` so a harness can catch it per method.

Units: ``gain`` is electrons per image unit (1 for images in electrons),
``read_noise`` is in electrons, ``variance`` and ``saturation`` are in image
units. Each adapter converts to what its method expects (see each class).

Example
-------
>>> import numpy as np
>>> from astroclean.cosmicrays.evaluate.peers import get_detector
>>> rng = np.random.default_rng(0)
>>> image = rng.normal(1000.0, 30.0, (64, 64)).astype(np.float32)
>>> image[20, 10:14] += 3000.0                      # a short track
>>> det = get_detector("astroscrappy")
>>> bool(det.detect(image, gain=1.0, read_noise=5.0)[20, 10:14].all())
True
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import importlib.util
import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np

from astroclean.background import robust_sigma
from astroclean.errors import AstrocleanError, AstrocleanKeyError, AstrocleanValueError
from astroclean.image import as_image

__all__ = ["Detector", "DetectorError", "DetectorUnavailableError", "DetectorInput", "prepare_input",
           "AstroscrappyDetector", "LACosmicDetector", "DeepCRDetector", "CosmicCoNNDetector",
           "register_detector", "list_detectors", "get_detector", "SIGCLIP_GRID", "INSTALL_HINT"]

INSTALL_HINT = "pip install astroclean[peers]"
#: The Laplacian S/N thresholds swept for a classical method's ROC curve.
SIGCLIP_GRID = tuple(float(s) for s in range(1, 21))


class DetectorError(AstrocleanError, RuntimeError):
    """A detector failed while running; the message names the method and the image."""


class DetectorUnavailableError(DetectorError):
    """A detector cannot run here (package or weights missing); the message says how to fix it."""


@dataclass(frozen=True)
class DetectorInput:
    """Validated inputs handed to an adapter (never the caller's arrays).

    ``data`` is float32 with non-finite pixels replaced by the median of the
    good pixels (peers cannot take NaN); ``mask`` is True = bad (caller mask,
    saturated, non-finite, bad variance); ``variance`` (or None) has its bad
    pixels replaced by the median good variance.
    """

    data: np.ndarray
    mask: np.ndarray
    nonfinite: np.ndarray
    variance: np.ndarray | None
    gain: float | None
    read_noise: float | None
    saturation: float | None

    def electrons(self) -> np.ndarray:
        """``data`` in electrons when ``gain`` is known, else as given (a new array)."""
        return self.data * np.float32(self.gain) if self.gain is not None else self.data.copy()


def _positive(value, name, *, allow_zero=False):
    if value is None:
        return None
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise AstrocleanValueError(f"{name} must be finite and {bound}, got {value}")
    return value


def prepare_input(image, *, mask=None, variance=None, gain=None, read_noise=None, saturation=None) -> DetectorInput:
    """Validate one call's inputs (an array or an :class:`~astroclean.image.Image`).

    Fields of an ``Image`` (mask, variance, gain, read_noise, saturation) are
    used unless given here; masks are combined.
    """
    img = as_image(image, mask=mask, variance=variance, saturation=saturation)
    gain = _positive(gain if gain is not None else img.gain, "gain")
    read_noise = _positive(read_noise if read_noise is not None else img.read_noise, "read_noise", allow_zero=True)
    nonfinite = ~np.isfinite(img.data)
    data = img.data.astype(np.float32)
    good = ~img.mask
    data[nonfinite] = np.median(data[good] if good.any() else data[~nonfinite])
    var = None
    if img.variance is not None:
        var = img.variance.astype(np.float32)
        with np.errstate(invalid="ignore"):
            badvar = ~np.isfinite(var) | (var <= 0)
        if badvar.all():
            raise AstrocleanValueError("variance has no finite positive value; pass a real variance plane or None")
        var[badvar] = np.median(var[~badvar])
    return DetectorInput(data=data, mask=img.mask, nonfinite=nonfinite, variance=var, gain=gain,
                         read_noise=read_noise, saturation=img.saturation)


class Detector:
    """One cosmic-ray detector, ours or a peer's; subclass and implement ``_score``.

    Subclasses set ``name``, ``family``, ``requires`` (importable modules),
    ``distribution`` (for the version in :meth:`describe`) and may override
    ``_check`` (weights present?), ``load`` (eager model loading, so timing can
    separate it) and ``_detect`` (default: ``score > threshold``).
    """

    name = "detector"
    family = "unknown"
    requires: tuple = ()
    distribution: str | None = None
    threshold: float | None = None

    def available(self) -> tuple:
        """``(True, "")`` when the detector can run here, else ``(False, reason)``."""
        for module in self.requires:
            if importlib.util.find_spec(module) is None:
                return False, f"{module} is not installed; {INSTALL_HINT}"
        return self._check()

    def _check(self) -> tuple:
        return True, ""

    def load(self) -> None:
        """Load models or weights now (otherwise on first use)."""

    def parameters(self) -> dict:
        """The options that define this detector's operating point."""
        return {"threshold": self.threshold} if self.threshold is not None else {}

    def describe(self) -> dict:
        """Name, family, package version and parameters, for benchmark tables."""
        try:
            version = importlib.metadata.version(self.distribution) if self.distribution else None
        except importlib.metadata.PackageNotFoundError:
            version = None
        return {"name": self.name, "family": self.family, "version": version, **self.parameters()}

    def score(self, image, *, mask=None, variance=None, gain=None, read_noise=None, saturation=None) -> np.ndarray:
        """Cosmic-ray score per pixel (float32, higher = more CR-like, NaN where the input is not finite).

        Parameters
        ----------
        image : array_like (y, x) or Image
            Pixels; an Image also supplies mask, variance, gain, read_noise, saturation.
        mask : array_like of bool, optional
            True = bad; combined with NaN/inf and saturated pixels.
        variance : array_like, optional
            Per-pixel variance in image units squared.
        gain, read_noise, saturation : float, optional
            Electrons per image unit, electrons, image units.

        Raises
        ------
        AstrocleanValueError
            Invalid inputs.
        DetectorUnavailableError
            The method cannot run here (package or weights missing).
        DetectorError
            The method itself failed; the original exception is its ``__cause__``.
        """
        return self._call("score", image, mask, variance, gain, read_noise, saturation)

    def detect(self, image, *, mask=None, variance=None, gain=None, read_noise=None, saturation=None) -> np.ndarray:
        """Boolean cosmic-ray mask at the method's default operating point (False where the input is not finite).

        Parameters and errors as :meth:`score`.
        """
        return self._call("detect", image, mask, variance, gain, read_noise, saturation)

    def _call(self, what, image, mask, variance, gain, read_noise, saturation):
        prep = prepare_input(image, mask=mask, variance=variance, gain=gain, read_noise=read_noise,
                             saturation=saturation)
        ok, reason = self.available()
        if not ok:
            raise DetectorUnavailableError(f"{self.name} cannot run: {reason}")
        try:
            out = self._score(prep) if what == "score" else self._detect(prep)
        except Exception as exc:  # a peer may raise anything; the harness needs one type
            raise DetectorError(f"{self.name} failed in {what}() on a {prep.data.shape} image: "
                                f"{type(exc).__name__}: {exc}") from exc
        out = np.asarray(out)
        if out.shape != prep.data.shape:
            raise DetectorError(f"{self.name} returned shape {out.shape} for a {prep.data.shape} image")
        out = np.array(out, dtype=np.float32 if what == "score" else bool, copy=True)
        out[prep.nonfinite] = np.nan if what == "score" else False
        return out

    def _score(self, prep: DetectorInput) -> np.ndarray:
        raise NotImplementedError

    def _detect(self, prep: DetectorInput) -> np.ndarray:
        return self._score(prep) > self.threshold

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r} {self.parameters()}>"


# ----------------------------------------------------------------------------- classical (L.A.Cosmic family)

@dataclass(frozen=True)
class _Noise:
    data: np.ndarray         # image units, plus ``pedestal``
    variance: np.ndarray | None
    gain: float
    read_noise: float
    pedestal: float


def _noise_model(prep: DetectorInput) -> _Noise:
    """What a Laplacian detector needs to estimate each pixel's noise.

    1. ``variance`` given: used as is (these methods are then invariant to the gain).
    2. ``gain`` given: the Poisson model from the data, after adding back the
       sky that the measured noise implies, ``(sigma_e**2 - read_noise**2) / gain``
       minus the median, when positive (about 0 for a sky-included image; the
       subtracted sky for a sky-subtracted one).
    3. neither: a constant variance, the robust (MAD) variance of the good
       pixels: sky-limited noise, so bright stars are flagged more easily.
    """
    if prep.variance is not None:
        return _Noise(prep.data, prep.variance, prep.gain or 1.0, prep.read_noise or 0.0, 0.0)
    good = prep.data[~prep.mask] if (~prep.mask).any() else prep.data.ravel()
    median = float(np.median(good))
    sigma = robust_sigma(good)
    if prep.gain is not None:
        rn = prep.read_noise or 0.0
        pedestal = max(0.0, ((sigma * prep.gain) ** 2 - rn ** 2) / prep.gain - median)
        return _Noise(prep.data + np.float32(pedestal), None, prep.gain, rn, pedestal)
    variance = np.full(prep.data.shape, max(sigma, 1e-12) ** 2, dtype=np.float32)
    return _Noise(prep.data, variance, 1.0, 0.0, 0.0)


def _sweep(run: Callable, values) -> tuple:
    """Score = the largest value at which a pixel is flagged (0 = never), and sweep diagnostics."""
    score = None
    previous = None
    counts, non_nested = [], 0
    for value in sorted(values):
        flagged = np.asarray(run(value), dtype=bool)
        if score is None:
            score = np.zeros(flagged.shape, dtype=np.float32)
        score[flagged] = value
        counts.append(int(flagged.sum()))
        if previous is not None:
            non_nested += int((flagged & ~previous).sum())
        previous = flagged
    return score, {"values": sorted(values), "n_flagged": counts, "non_nested": non_nested}


@contextlib.contextmanager
def _quiet(logger_name):
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


# ----------------------------------------------------------------------------- registry

_FACTORIES: dict = {}


def register_detector(name: str, factory: Callable[..., Detector], *, overwrite: bool = False) -> None:
    """Register ``factory(**options) -> Detector`` under ``name`` (e.g. ``"astroclean:ground"``)."""
    if name in _FACTORIES and not overwrite:
        raise AstrocleanValueError(f"a detector named {name!r} is already registered; pass overwrite=True")
    _FACTORIES[name] = factory


def list_detectors(*, available_only: bool = False) -> list:
    """Registered detector names; with ``available_only`` only those that can run here."""
    names = sorted(_FACTORIES)
    return [n for n in names if _FACTORIES[n]().available()[0]] if available_only else names


def get_detector(name: str, **options) -> Detector:
    """A new detector by registered name; ``options`` go to its constructor (e.g. ``patch=256``)."""
    if name not in _FACTORIES:
        raise AstrocleanKeyError(f"unknown detector {name!r}; known: {', '.join(list_detectors())}")
    return _FACTORIES[name](**options)


# the adapters register themselves
from astroclean.cosmicrays.evaluate.peers_classical import AstroscrappyDetector, LACosmicDetector  # noqa: E402
from astroclean.cosmicrays.evaluate.peers_deep import CosmicCoNNDetector, DeepCRDetector  # noqa: E402
