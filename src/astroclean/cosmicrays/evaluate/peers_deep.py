"""Adapters for the deep-learning peers: deepCR and Cosmic-CoNN, with their shipped weights.

Registered on import of :mod:`astroclean.cosmicrays.evaluate.peers`.
"""

from __future__ import annotations
import contextlib
import importlib
import importlib.metadata
import importlib.util
import logging
from pathlib import Path
import numpy as np
from astroclean.errors import AstrocleanValueError
from astroclean.cosmicrays.evaluate.peers import Detector, register_detector


def _package_dir(module) -> Path | None:
    spec = importlib.util.find_spec(module)
    return Path(spec.origin).parent if spec is not None and spec.origin else None


@contextlib.contextmanager
def _keep_global_state():
    """Undo the global settings a peer changes on import or load (cudnn flags, default dtype, root logging)."""
    import torch

    cudnn = torch.backends.cudnn
    saved = (cudnn.enabled, cudnn.benchmark, torch.get_default_dtype())
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        cudnn.enabled, cudnn.benchmark = saved[0], saved[1]
        torch.set_default_dtype(saved[2])
        root.handlers[:] = handlers
        root.setLevel(level)


class _NetworkDetector(Detector):
    family = "deep learning"
    units = {}  # model -> "electron" or ("adu", typical e-/ADU)

    def __init__(self, model, *, name, threshold):
        if model not in self.units:
            raise AstrocleanValueError(f"{type(self).__name__} model must be one of {sorted(self.units)}, "
                                       f"got {model!r}")
        if not 0 < threshold < 1:
            raise AstrocleanValueError(f"threshold must be in (0, 1), got {threshold}")
        self.model, self.name, self.threshold = model, name, float(threshold)
        self._net = None

    def _check(self):
        path = self._weights()
        return (True, "") if path is not None else (False, f"{self.distribution} ships no weights for {self.model!r}")

    def _input(self, prep):
        """The image in the units the model was trained on (electrons, or ADU for DECam)."""
        unit = self.units[self.model]
        if unit == "electron" or prep.gain is None:
            return prep.electrons()
        return prep.data * np.float32(prep.gain / unit[1])

    def _score(self, prep):
        if self._net is None:
            self.load()
        return self._predict(self._input(prep))


class DeepCRDetector(_NetworkDetector):
    """deepCR (Zhang & Bloom 2020) mask models; score = its probability map.

    ``'ACS-WFC'`` expects HST ACS/WFC ``_flc`` images in electrons (sky
    included): fed ``image * gain`` (as given when ``gain`` is None).
    ``'decam'`` expects DECam Community Pipeline images in ADU (deepCR's model
    zoo): fed ``image * gain / adu_gain`` with ``adu_gain`` = 4 e-/ADU (CP
    amplifier gains are 3.9-4.3), as given when ``gain`` is None. Neither
    model normalises its input (deepCR's ``scale`` is 1) and deepCR takes no
    bad-pixel mask. ``patch`` is deepCR's tile size (its default 1024;
    ``None`` = whole image); tiles do not overlap. deepCR runs with autograd
    on, as shipped; ``inference_mode=True`` runs it under
    ``torch.inference_mode`` (same output, less memory).
    """

    requires = ("deepCR", "learned_models", "torch")
    distribution = "deepCR"
    units = {"ACS-WFC": "electron", "decam": ("adu", 4.0)}

    def __init__(self, model="ACS-WFC", *, patch=1024, threshold=0.5, inference_mode=False, name=None):
        super().__init__(model, name=name or f"deepcr:{model}", threshold=threshold)
        if patch is not None and int(patch) < 4:
            raise AstrocleanValueError(f"patch must be None or an integer >= 4, got {patch}")
        self.patch = None if patch is None else int(patch)
        self.inference_mode = bool(inference_mode)

    def parameters(self):
        return {"model": self.model, "patch": self.patch, "threshold": self.threshold,
                "inference_mode": self.inference_mode}

    def _weights(self):
        root = _package_dir("learned_models")
        path = None if root is None else root / "mask" / f"{self.model}.pth"
        return path if path is not None and path.is_file() else None

    def load(self):
        with _keep_global_state():
            from deepCR import deepCR

            self._net = deepCR(mask=self.model, device="CPU")

    def _predict(self, x):
        import torch

        context = torch.inference_mode() if self.inference_mode else contextlib.nullcontext()
        with context:
            return self._net.clean(x, inpaint=False, binary=False, segment=self.patch is not None,
                                   patch=self.patch or 1024)


class CosmicCoNNDetector(_NetworkDetector):
    """Cosmic-CoNN (Xu et al. 2023); score = its probability map.

    Both models are fed electrons (``image * gain``; as given when ``gain`` is
    None), as in its LCO and HST training pipelines; it subtracts each tile's
    median itself and takes no bad-pixel mask. ``crop`` is its tile size
    (default 1024, falling back to 512 and 256 on memory errors; 0 = whole
    image); tiles do not overlap and edge strips not a multiple of 16 pixels
    get probability 0, as shipped. Its import sets cudnn flags and its loader
    configures root logging: both are undone.
    """

    requires = ("cosmic_conn", "torch")
    distribution = "cosmic-conn"
    units = {"ground_imaging": "electron", "HST_ACS_WFC": "electron"}

    def __init__(self, model="ground_imaging", *, crop=1024, threshold=0.5, name=None):
        super().__init__(model, name=name or f"cosmic-conn:{model}", threshold=threshold)
        if int(crop) < 0:
            raise AstrocleanValueError(f"crop must be >= 0 (0 = whole image), got {crop}")
        self.crop = int(crop)

    def parameters(self):
        return {"model": self.model, "crop": self.crop, "threshold": self.threshold}

    def _weights(self):
        root = _package_dir("cosmic_conn")
        found = sorted((root / "trained_models").glob(f"cosmic-conn_{self.model}_v*.pth")) if root else []
        return found[-1] if found else None

    def load(self):
        with _keep_global_state():
            from cosmic_conn import init_model

            self._net = init_model(self.model)
        self._net.opt.crop = self.crop

    def _predict(self, x):
        return self._net.detect_cr(x, ret_numpy=True)


for _model in DeepCRDetector.units:
    register_detector(f"deepcr:{_model}", lambda _m=_model, **o: DeepCRDetector(_m, **o))
for _model in CosmicCoNNDetector.units:
    register_detector(f"cosmic-conn:{_model}", lambda _m=_model, **o: CosmicCoNNDetector(_m, **o))

