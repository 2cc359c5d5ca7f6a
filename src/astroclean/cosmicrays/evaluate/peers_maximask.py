"""MaxiMask (Paillassa et al. 2020), its cosmic-ray class, as a benchmark peer.

MaxiMask ships its TensorFlow SavedModel inside its wheel, so it runs offline; but its TensorFlow
(2.15, the last with Keras 2, for Python 3.11) pins numpy < 2, which astroclean's own environment
does not allow. So it runs in a worker process under another interpreter: install the extra into
its own virtual environment and name that interpreter,

    python3.11 -m venv ~/maximask-env
    ~/maximask-env/bin/pip install "tensorflow-cpu==2.15.1" "maximask==1.4.1"
    export ASTROCLEAN_MAXIMASK_PYTHON=~/maximask-env/bin/python

(``pip install "astroclean[maximask]"`` pins the same two packages). The worker
(:mod:`astroclean.cosmicrays.evaluate.maximask_worker`) keeps the model loaded for the whole benchmark.

Score: the prior-modified CR probability (MaxiMask's default output before thresholding; the
prior modification is monotonic, so it does not change the ranking); detect: that probability
at or above MaxiMask's default CR threshold, 0.43 (its ``classes.thresh``). MaxiMask sees the
image in its own units and estimates its own background and noise (it takes no gain).

Example
-------
>>> from astroclean.cosmicrays.evaluate.peers_maximask import MaxiMaskDetector
>>> MaxiMaskDetector().available()[0] in (True, False)
True
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from astroclean.cosmicrays.evaluate.peers import Detector, DetectorError, register_detector

__all__ = ["MaxiMaskDetector", "ENV"]

ENV = "ASTROCLEAN_MAXIMASK_PYTHON"
WORKER = Path(__file__).with_name("maximask_worker.py")


class MaxiMaskDetector(Detector):
    """MaxiMask's CR class through a worker process (see the module notes)."""

    name = "maximask"
    family = "deep learning"
    distribution = None

    def __init__(self, *, threshold=0.43, python=None, name=None):
        self.threshold = float(threshold)
        self.python = python or os.environ.get(ENV)
        self.name = name or "maximask"
        self._proc = None
        self._tmp = None

    def _check(self):
        if not self.python:
            return False, (f"MaxiMask needs TensorFlow 2.15 (numpy < 2) in its own environment: set {ENV} to "
                           "the python of a venv with tensorflow-cpu==2.15.1 and maximask==1.4.1")
        if not Path(self.python).exists():
            return False, f"{ENV}={self.python} does not exist"
        probe = subprocess.run([self.python, "-c", "import importlib.util as u; assert u.find_spec('tensorflow') "
                                "and u.find_spec('maximask_and_maxitrack')"], capture_output=True, text=True)
        if probe.returncode:
            return False, f"{self.python} cannot import tensorflow and maximask_and_maxitrack"
        return True, ""

    def parameters(self):
        out = {"threshold": self.threshold, "class": "CR", "prior_modified": True}
        if self.python:
            probe = subprocess.run([self.python, "-c", "import importlib.metadata as m; print(m.version('MaxiMask'), "
                                    "m.version('tensorflow-cpu'))"], capture_output=True, text=True)
            if probe.returncode == 0:
                mm, tf = probe.stdout.split()
                out.update(maximask=mm, tensorflow=tf)
        return out

    def load(self):
        if self._proc is not None:
            return
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_NUM_INTRAOP_THREADS":
               os.environ.get("OMP_NUM_THREADS", "1"), "TF_NUM_INTEROP_THREADS": "1", "PYTHONPATH": ""}
        self._tmp = tempfile.TemporaryDirectory(prefix="maximask-")
        self._proc = subprocess.Popen([self.python, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True, env=env)
        line = self._proc.stdout.readline().strip()
        if line != "ready":
            raise DetectorError(f"the MaxiMask worker did not start (said {line!r})")

    def _score(self, prep):
        self.load()
        src, dst = Path(self._tmp.name) / "in.npy", Path(self._tmp.name) / "out.npy"
        np.save(src, np.where(prep.mask, np.nan, prep.data).astype(np.float32))
        self._proc.stdin.write(f"{src} {dst}\n")
        self._proc.stdin.flush()
        answer = self._proc.stdout.readline().strip()
        if answer != "ok":
            raise DetectorError(f"MaxiMask worker: {answer or 'no answer'}")
        return np.load(dst).astype(np.float32)

    def close(self):
        if self._proc is not None:
            self._proc.stdin.close()
            self._proc.wait(timeout=30)
            self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing left to clean reliably
            pass


register_detector("maximask", lambda **o: MaxiMaskDetector(**o))
