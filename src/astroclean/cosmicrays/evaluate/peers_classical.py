"""Adapters for the classical peers: astroscrappy (L.A.Cosmic in C) and lacosmic (pure Python).

Both are sweep detectors: their score is the largest ``sigclip`` at which a pixel is flagged
(see :class:`~astroclean.cosmicrays.evaluate.peers.Detector`). Registered on import of
:mod:`astroclean.cosmicrays.evaluate.peers`.
"""

from __future__ import annotations
import numpy as np
from astroclean.cosmicrays.evaluate.peers import (SIGCLIP_GRID, Detector, _noise_model, _quiet, _sweep,
                                                  register_detector)


class _SweepDetector(Detector):
    """A classical detector scored by sweeping its Laplacian S/N threshold."""

    family = "classical"

    def __init__(self, *, name, sigclip, sigfrac, objlim, sweep):
        self.name, self.sigclip, self.sigfrac, self.objlim = name, float(sigclip), float(sigfrac), float(objlim)
        self.sweep = tuple(sorted(set(float(s) for s in sweep) | {self.sigclip}))
        self.sweep_info: dict = {}

    def parameters(self):
        return {"sigclip": self.sigclip, "sigfrac": self.sigfrac, "objlim": self.objlim, "n_sweep": len(self.sweep)}

    def _score(self, prep):
        """Thresholding the score at a sweep value ``s`` gives the union of the masks at ``sigclip >= s``:
        the mask at ``s`` itself except for pixels that only a higher threshold flags
        (rare; iterations clean pixels differently), counted in ``sweep_info["non_nested"]``."""
        noise = _noise_model(prep)
        score, self.sweep_info = _sweep(lambda s: self._mask(prep, noise, s), self.sweep)
        return score

    def _detect(self, prep):
        return self._mask(prep, _noise_model(prep), self.sigclip)


class AstroscrappyDetector(_SweepDetector):
    """astroscrappy's L.A.Cosmic; ROC by sweeping ``sigclip`` with ``objlim``/``sigfrac`` fixed.

    astroscrappy wants a sky-included image and a gain: it is fed the image in
    its units with ``gain`` (1 when unknown), ``readnoise`` and ``satlevel =
    saturation * gain`` (no saturation level when unknown, instead of its
    65536 e- default meant for 16-bit ADU), the bad-pixel mask as ``inmask``,
    and the variance as ``invar`` when given; otherwise see the noise model
    (sky added back for sky-subtracted images) in :func:`_noise_model`.
    ``extra`` goes to ``astroscrappy.detect_cosmics`` (``niter``, ``sepmed``...).
    """

    requires = ("astroscrappy",)
    distribution = "astroscrappy"

    def __init__(self, *, name="astroscrappy", sigclip=4.5, sigfrac=0.3, objlim=5.0, sweep=SIGCLIP_GRID, **extra):
        super().__init__(name=name, sigclip=sigclip, sigfrac=sigfrac, objlim=objlim, sweep=sweep)
        self.extra = extra

    def _mask(self, prep, noise, sigclip):
        import astroscrappy

        satlevel = np.inf if prep.saturation is None else (prep.saturation + noise.pedestal) * noise.gain
        crmask, _ = astroscrappy.detect_cosmics(
            noise.data, inmask=prep.mask, invar=noise.variance, sigclip=sigclip, sigfrac=self.sigfrac,
            objlim=self.objlim, gain=noise.gain, readnoise=noise.read_noise, satlevel=satlevel, **self.extra)
        return crmask


class LACosmicDetector(_SweepDetector):
    """The ``lacosmic`` package (pure Python L.A.Cosmic); ROC by sweeping ``cr_threshold``.

    It has no default parameters; these are astroscrappy's defaults so the two
    implementations are compared at one operating point: ``contrast = objlim
    = 5``, ``cr_threshold = sigclip = 4.5``, ``neighbor_threshold = sigfrac *
    cr_threshold``. Noise: ``error = sqrt(variance)`` when given, else
    ``effective_gain``/``readnoise`` on the sky-added-back image, else a
    constant error (see :func:`_noise_model`). Slow on large images: its
    cleaning step loops over flagged pixels in Python, and a score is one run
    per sweep value; pass a shorter ``sweep`` for big images.
    """

    requires = ("lacosmic",)
    distribution = "lacosmic"

    def __init__(self, *, name="lacosmic", sigclip=4.5, sigfrac=0.3, objlim=5.0, sweep=SIGCLIP_GRID, maxiter=4):
        super().__init__(name=name, sigclip=sigclip, sigfrac=sigfrac, objlim=objlim, sweep=sweep)
        self.maxiter = int(maxiter)

    def _mask(self, prep, noise, sigclip):
        import lacosmic

        if noise.variance is not None:
            noise_args = {"error": np.sqrt(noise.variance)}
        else:
            noise_args = {"effective_gain": noise.gain, "readnoise": noise.read_noise}
        with _quiet("astropy"):  # it logs every iteration at INFO
            _, crmask = lacosmic.remove_cosmics(noise.data, self.objlim, sigclip, self.sigfrac * sigclip,
                                                mask=prep.mask, maxiter=self.maxiter, **noise_args)
        return crmask


# ----------------------------------------------------------------------------- deep-learning peers


register_detector("astroscrappy", lambda **o: AstroscrappyDetector(**o))
register_detector("astroscrappy:sigclip3", lambda **o: AstroscrappyDetector(
    **{"name": "astroscrappy:sigclip3", "sigclip": 3.0, "objlim": 1.0, "sigfrac": 0.1, **o}))
register_detector("lacosmic", lambda **o: LACosmicDetector(**o))
