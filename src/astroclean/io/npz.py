"""Compressed ``.npz`` array bundles: atomic writes, no pickle on read.

Used for the cosmic-ray library, training sets and the benchmark set.

Example
-------
>>> import numpy as np, tempfile, pathlib
>>> from astroclean.io import load_npz, save_npz
>>> path = pathlib.Path(tempfile.mkdtemp()) / "a.npz"
>>> _ = save_npz(path, {"x": np.arange(3)})
>>> load_npz(path)["x"].tolist()
[0, 1, 2]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astroclean.errors import AstrocleanFileError
from astroclean.io.write import atomic_write


def save_npz(path, arrays: dict, *, overwrite: bool = False) -> Path:
    """Write ``arrays`` to a compressed ``.npz`` at ``path`` atomically; never overwrite unless asked."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp):
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    return atomic_write(path, write, overwrite=overwrite)


def load_npz(path) -> dict:
    """Every array of an ``.npz`` (no pickle)."""
    path = Path(path)
    if not path.is_file():
        raise AstrocleanFileError(f"no such file: {path}")
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}
