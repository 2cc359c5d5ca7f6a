import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from astroclean.clusters.inputs import model_photflam
from astroclean.clusters.model import TINY, build_network
from astroclean.clusters.tables import BANDS, tables
from astroclean.models.card import ModelCard


@pytest.fixture
def tiny_net():
    """An untrained tiny cluster ResNet with a card (architecture only)."""
    net = build_network(TINY)
    net.card = ModelCard(name="tiny-test", task="clusters", architecture=dict(TINY),
                         inputs={"cutout": 48})
    return net.eval()


@pytest.fixture
def uvis_files(tmp_path):
    """Three small UVIS-like FITS files (e-/s, PHOTFLAM, FILTER, 0.04"/px WCS) and their paths."""
    rng = np.random.default_rng(3)
    paths = []
    for b, band in enumerate(BANDS):
        data = rng.normal(0, 0.004, (90, 100)).astype(np.float32)
        data[40:46, 50:56] += 0.5
        w = WCS(naxis=2)
        w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        w.wcs.crval = [204.25, -29.86]
        w.wcs.crpix = [50, 45]
        w.wcs.cdelt = [-0.04 / 3600, 0.04 / 3600]
        h = w.to_header()
        h["FILTER"] = band
        h["BUNIT"] = "ELECTRONS/S"
        h["PHOTFLAM"] = model_photflam(band)
        h["PHOTPLAM"] = float(tables().pivot[b])
        path = tmp_path / f"m83_{band.lower()}.fits"
        fits.PrimaryHDU(data, header=h).writeto(path)
        paths.append(path)
    return paths
