"""MaxiMask's cosmic-ray probability, computed in a Python that has TensorFlow and MaxiMask.

Run as a worker by :class:`astroclean.cosmicrays.evaluate.peers_maximask.MaxiMaskDetector`: it reads lines
``<input.npy> <output.npy>`` on stdin, writes the prior-modified CR probability map (float32,
same shape) to ``<output.npy>`` and answers ``ok`` (or ``error <message>``) on stdout. The
preprocessing is MaxiMask's own (``utils.image_norm``: its background and noise maps), the
network is the SavedModel shipped inside the MaxiMask wheel, run in 400x400 blocks with MaxiMask's
overlap rule; images smaller than a block are reflect-padded to 400 and cropped back.

This file imports only numpy, TensorFlow and MaxiMask, so that it runs in a separate environment
(TensorFlow 2.15 needs numpy < 2): ``python -m pip install "astroclean[maximask]"`` into its own
virtual environment, then point ``ASTROCLEAN_MAXIMASK_PYTHON`` at its interpreter.
"""

from __future__ import annotations

import os
import sys

import numpy as np

CR_CLASS = 0
BLOCK = 400


def _load():
    import tensorflow as tf
    from maximask_and_maxitrack.maximask import maximask as mm

    net_dir = os.path.join(os.path.dirname(mm.__file__), "model")
    model = tf.saved_model.load(net_dir)
    flags = np.zeros(mm.MaxiMask_inference.nb_classes, dtype=bool)
    flags[CR_CLASS] = True
    config = os.path.join(os.path.dirname(mm.__file__), "config", "classes.priors")
    priors = np.array([float(line.split()[1]) for line in open(config) if line.strip()], dtype=np.float32)
    inference = mm.MaxiMask_inference(None, net_dir, flags, priors, None, False, 8)
    return model, inference


def cr_probability(image: np.ndarray, model, inference) -> np.ndarray:
    from maximask_and_maxitrack import utils

    h, w = image.shape
    ph, pw = max(0, BLOCK - h), max(0, BLOCK - w)
    data = np.pad(image.astype(np.float32), ((0, ph), (0, pw)), mode="reflect") if (ph or pw) else image
    data, _ = utils.image_norm(np.array(data, dtype=np.float32))
    preds = np.zeros(list(data.shape) + [1], dtype=np.float32)
    inference.process_image(data, preds, model)
    return preds[:h, :w, 0]


def main() -> int:
    model, inference = _load()
    print("ready", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        try:
            image = np.load(parts[0])
            np.save(parts[1], cr_probability(image, model, inference).astype(np.float32))
            print("ok", flush=True)
        except Exception as exc:  # report and go on: the caller marks the case as failed
            print(f"error {type(exc).__name__}: {exc}".replace("\n", " "), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
