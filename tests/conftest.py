import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).parent / "data"
EXAMPLE = ROOT / "examples" / "decam" / "c4d_170316_062107_ooi_z_ls9.N2.fits"


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def shared_data():
    path = Path(os.environ.get("ASTROCLEAN_DATA_DIR", ROOT.parent / "shared" / "data"))
    if not path.is_dir():
        pytest.skip(f"real data folder {path} not present (set ASTROCLEAN_DATA_DIR)")
    return path


def sky_with_track(rng, shape=(96, 96), sky=200.0, sigma=5.0, amplitude=300.0):
    """A flat noisy sky with one straight cosmic-ray track; returns (image, truth)."""
    image = (sky + sigma * rng.standard_normal(shape)).astype(np.float32)
    truth = np.zeros(shape, bool)
    y = shape[0] // 2
    truth[y, 10:30] = True
    image[truth] += amplitude
    return image, truth
