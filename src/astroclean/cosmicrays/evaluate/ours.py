"""astroclean's own cosmic-ray models behind the benchmark's :class:`~astroclean.cosmicrays.evaluate.peers.Detector` protocol.

``"astroclean:<model>"`` runs one model: score = its probability, detect =
probability at or above the model card's threshold (exactly what
:func:`~astroclean.cosmicrays.detect_cosmic_rays` flags). ``"astroclean:auto"``
picks the model a user would pick for the instrument: ``"space"`` for the
space flavour, ``"cr-any"`` otherwise (the harness calls
:meth:`AutoAstrocleanDetector.for_flavour`).

A model without trained weights (an architecture variant such as
``"unet-bn"``) is unavailable unless asked for with ``allow_untrained=True``,
and its :meth:`describe` says ``untrained``: such numbers test plumbing, they
are never results.

Registering (done by :func:`register_ours`, which the harness calls) adds
``astroclean:ground``, ``astroclean:space`` and ``astroclean:auto`` to
:func:`~astroclean.cosmicrays.evaluate.peers.list_detectors`.

Example
-------
>>> import numpy as np
>>> from astroclean.cosmicrays.evaluate.ours import AstrocleanDetector
>>> det = AstrocleanDetector("unet-bn", allow_untrained=True)   # random weights: plumbing only
>>> image = np.random.default_rng(0).normal(100.0, 5.0, (64, 64)).astype("f4")
>>> det.score(image).shape, det.describe()["untrained"]
((64, 64), True)
"""

from __future__ import annotations

import numpy as np

from astroclean.errors import AstrocleanError, AstrocleanValueError
from astroclean.models.registry import check_model_task
from astroclean.image import as_image
from astroclean.cosmicrays.choose import GROUND_MODEL
from astroclean.cosmicrays.evaluate.peers import Detector, get_detector, list_detectors, register_detector

__all__ = ["AstrocleanDetector", "AutoAstrocleanDetector", "AUTO_MODELS", "register_ours", "make_ours"]

#: The model ``astroclean:auto`` uses for each benchmark flavour.
AUTO_MODELS = {"space": "space", "ground": GROUND_MODEL, "crowded": GROUND_MODEL}
PREFIX = "astroclean:"


class AstrocleanDetector(Detector):
    """One astroclean cosmic-ray model as a benchmark detector.

    Parameters
    ----------
    model : str
        A registered model name (``astroclean models``).
    threshold : float, optional
        Operating point; default the model card's ``default_threshold``.
    device : str, optional
    tile : int, optional
        Tile core size of the predictor (default: :func:`astroclean.inference.predictor.default_tile`).
    allow_untrained : bool
        Let a model without trained weights run (plumbing tests only).
    name : str, optional
        Default ``"astroclean:<model>"``.
    """

    family = "astroclean"
    requires = ("torch",)
    distribution = "astroclean"

    def __init__(self, model, *, threshold=None, device=None, tile=None, allow_untrained=False, name=None,
                 fpr=None):
        self.model, self.device, self.tile = str(model), device, None if tile is None else int(tile)
        self.fpr = None if fpr is None else float(fpr)
        self._last = None
        self.allow_untrained = bool(allow_untrained)
        self.name = name or f"{PREFIX}{self.model}" + (f"@fpr={self.fpr:g}" if self.fpr else "")
        if threshold is not None and not 0 < float(threshold) < 1:
            raise AstrocleanValueError(f"threshold must be in (0, 1), got {threshold}")
        self._threshold = threshold
        self._detector = None

    def _card(self):
        from astroclean.models import get_card

        return get_card(self.model)

    def _check(self):
        try:
            card = self._card()
        except AstrocleanError as exc:
            return False, f"model {self.model!r} is not available: {exc}"
        try:
            check_model_task(self.model, "cosmicrays", what="cosmic-ray")
        except AstrocleanError as exc:
            return False, str(exc)
        if card.weights_file is None and not self.allow_untrained:
            return False, f"model {self.model!r} has no trained weights (architecture only)"
        return True, ""

    @property
    def threshold(self):
        if self._threshold is not None:
            return float(self._threshold)
        try:
            return float(self._card().default_threshold)
        except AstrocleanError:
            return None

    @property
    def untrained(self) -> bool:
        try:
            return self._card().weights_file is None
        except AstrocleanError:
            return False

    def parameters(self):
        out = {"model": self.model, "threshold": self.threshold, "untrained": self.untrained,
               "dilate": self.dilate}
        if self.fpr:
            out["fpr"] = self.fpr
        try:
            out["sha256"] = self._card().sha256
        except AstrocleanError:
            pass
        return out

    def load(self):
        from astroclean.cosmicrays import CosmicRayDetector

        if self._detector is None:
            self._detector = CosmicRayDetector(self.model, device=self.device, tile=self.tile,
                                               allow_untrained=self.allow_untrained)

    @property
    def dilate(self) -> int:
        try:
            extra = self._card().extra
        except AstrocleanError:
            return 0
        return int(extra.get("default_dilate", 0)) if isinstance(extra, dict) else 0

    def _run(self, prep):
        self.load()
        image = as_image(prep.data, mask=prep.mask, variance=prep.variance, saturation=prep.saturation,
                         gain=prep.gain, read_noise=prep.read_noise)
        self._last = self._detector.detect(image, threshold=self.threshold, fpr=self.fpr)
        return self._last

    def _score(self, prep):
        """The logit: the probability's ranking without its float32 saturation at 1."""
        return self._run(prep).logit

    def _detect(self, prep):
        return self._run(prep).cr_mask

    def mask_from_score(self, score: np.ndarray) -> np.ndarray:
        """The :meth:`detect` mask from a :meth:`score` map (no second network pass): the logit at or
        above the threshold's, dilated as the card says; with ``fpr``, the mask of the last run."""
        from astroclean.cosmicrays.detect import dilate_sparse

        if self.fpr and self._last is not None and self._last.logit is not None \
                and self._last.logit.shape == np.shape(score):
            return self._last.cr_mask
        t = float(np.log(self.threshold) - np.log1p(-self.threshold))
        with np.errstate(invalid="ignore"):
            mask = np.asarray(score) >= t
        return dilate_sparse(mask, iterations=self.dilate) if self.dilate else mask


class AutoAstrocleanDetector(Detector):
    """``astroclean:auto``: the shipped model for the instrument (see :data:`AUTO_MODELS`).

    Called directly (without a flavour) it uses the ``"cr-any"`` model, as
    :func:`~astroclean.cosmicrays.detect_cosmic_rays` does by default.
    """

    family = "astroclean"
    requires = ("torch",)
    distribution = "astroclean"
    name = PREFIX + "auto"

    def __init__(self, *, models=None, **options):
        self.models = dict(AUTO_MODELS if models is None else models)
        self.options = options
        self._members = {}

    def for_flavour(self, flavour) -> AstrocleanDetector:
        """The detector for one benchmark flavour (:data:`GROUND_MODEL` for an unknown one)."""
        model = self.models.get(flavour, GROUND_MODEL)
        if model not in self._members:
            self._members[model] = AstrocleanDetector(model, name=f"{self.name}[{model}]", **self.options)
        return self._members[model]

    def _check(self):
        for model in sorted(set(self.models.values())):
            ok, reason = AstrocleanDetector(model, **self.options).available()
            if not ok:
                return False, reason
        return True, ""

    def parameters(self):
        return {"models": ",".join(f"{k}={v}" for k, v in self.models.items())}

    def _score(self, prep):
        return self.for_flavour("ground")._score(prep)

    def _detect(self, prep):
        return self.for_flavour("ground")._detect(prep)


def make_ours(name: str, **options) -> Detector:
    """``"astroclean:auto"`` or ``"astroclean:<model>"`` (any registered model; an explicitly
    named architecture variant is allowed to run untrained)."""
    model = name[len(PREFIX):] if name.startswith(PREFIX) else name
    if "@fpr=" in model:
        model, fpr = model.split("@fpr=")
        options.setdefault("fpr", float(fpr))
        return AstrocleanDetector(model, **options)
    if model == "auto":
        return AutoAstrocleanDetector(**options)
    if name in list_detectors():
        return get_detector(name, **options)
    options.setdefault("allow_untrained", True)
    return AstrocleanDetector(model, **options)


def register_ours() -> None:
    """Add ``astroclean:ground``, ``astroclean:space`` and ``astroclean:auto`` to the detector registry
    (idempotent)."""
    known = set(list_detectors())
    for model in ("ground", "space"):
        if PREFIX + model not in known:
            register_detector(PREFIX + model, lambda _m=model, **o: AstrocleanDetector(_m, **o))
    if PREFIX + "auto" not in known:
        register_detector(PREFIX + "auto", lambda **o: AutoAstrocleanDetector(**o))
