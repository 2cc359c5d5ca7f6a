"""Peer cosmic-ray detector adapters (astroclean.cosmicrays.evaluate.peers).

Each adapter runs on a small synthetic frame with obvious hits; an adapter
whose package or weights are missing is skipped with the reason.
"""

import logging

import numpy as np
import pytest

from astroclean.errors import AstrocleanKeyError, AstrocleanValueError
from astroclean.cosmicrays.evaluate.peers import (
    INSTALL_HINT, AstroscrappyDetector, DeepCRDetector, Detector, DetectorError, DetectorUnavailableError,
    get_detector, list_detectors, register_detector,
)
from astroclean.image import as_image

SKY, READ_NOISE = 1000.0, 5.0
#: Peers whose default operating point misses some of the test frame's plain hits (their score still ranks them).
MISSES_AT_DEFAULT = {"maximask"}
FAST = {"astroscrappy": {"sweep": (2, 8)}, "astroscrappy:sigclip3": {"sweep": (2, 8)},
        "lacosmic": {"sweep": (3, 8)}}


def _frame(seed=3, n=96):
    """Sky-included frame in electrons: a star, and 8 hits of 2-5 pixels.

    No single-pixel hits: Cosmic-CoNN gives isolated one-pixel spikes a low
    probability by design (measured < 0.05 for 125-sigma spikes).
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:n, :n]
    clean = SKY + 20000.0 * np.exp(-((yy - 70.3) ** 2 + (xx - 25.6) ** 2) / (2 * 1.4 ** 2))
    image = rng.normal(clean, np.sqrt(clean + READ_NOISE ** 2))
    hits = []
    for k, (y, x) in enumerate([(10, 10), (15, 60), (30, 30), (45, 80), (60, 50), (80, 75), (85, 10), (50, 12)]):
        track = [(y, x + i) for i in range(k % 4 + 2)] if k % 2 else [(y + i, x + i) for i in range(k % 3 + 2)]
        for p in track:
            image[p] += 4000.0
        hits.append(track)
    truth = np.zeros((n, n), bool)
    for track in hits:
        truth[tuple(np.array(track).T)] = True
    return image.astype(np.float32), truth, hits


@pytest.fixture(scope="module")
def frame():
    return _frame()


def _detector(name):
    det = get_detector(name, **FAST.get(name, {}))
    ok, reason = det.available()
    if not ok:
        pytest.skip(f"{name} unavailable: {reason}")
    return det


@pytest.mark.parametrize("name", list_detectors())
def test_adapter_finds_obvious_hits_and_keeps_inputs(name, frame):
    image, truth, hits = frame
    det = _detector(name)
    mask = np.zeros(image.shape, bool)
    mask[0, :5] = True
    variance = np.full(image.shape, SKY + READ_NOISE ** 2, np.float32)
    copies = image.copy(), mask.copy(), variance.copy()

    score = det.score(image, mask=mask, gain=1.0, read_noise=READ_NOISE)
    found = det.detect(image, mask=mask, gain=1.0, read_noise=READ_NOISE)
    det.detect(image, mask=mask, variance=variance)

    for kept, original in zip((image, mask, variance), copies):
        np.testing.assert_array_equal(kept, original)
    assert score.shape == image.shape and score.dtype == np.float32 and np.isfinite(score).all()
    assert found.shape == image.shape and found.dtype == bool
    for track in hits:  # every hit is found (MaxiMask at its own threshold finds about half: its real behaviour)
        assert any(found[p] for p in track) or name in MISSES_AT_DEFAULT, f"{name} missed the hit at {track}"
    if name in MISSES_AT_DEFAULT:
        assert np.mean([any(found[p] for p in track) for track in hits]) >= 0.25
    near = np.zeros_like(truth)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near |= np.roll(truth, (dy, dx), axis=(0, 1))
    assert (found & ~near).sum() <= 0.005 * image.size  # ... with few false pixels away from them
    assert np.median(score[truth]) > np.percentile(score[~near], 99)


@pytest.mark.parametrize("name", ["astroscrappy", "deepcr:ACS-WFC", "cosmic-conn:ground_imaging"])
def test_nonfinite_pixels_are_nan_in_score_and_never_flagged(name, frame):
    image, _, _ = frame
    det = _detector(name)
    bad = image.copy()
    bad[40, 40], bad[41, 41] = np.nan, np.inf
    score = det.score(bad, gain=1.0)
    found = det.detect(bad, gain=1.0)
    nonfinite = ~np.isfinite(bad)
    assert np.isnan(score[nonfinite]).all() and np.isfinite(score[~nonfinite]).all()
    assert not found[40, 40] and not found[41, 41]


@pytest.mark.parametrize("name", ["astroscrappy", "astroscrappy:sigclip3", "lacosmic"])
def test_thresholding_the_sweep_score_reproduces_the_mask(name, frame):
    image, _, _ = frame
    det = _detector(name)
    score = det.score(image, gain=1.0, read_noise=READ_NOISE)
    info = det.sweep_info
    assert info["values"] == sorted(set(FAST[name]["sweep"]) | {det.sigclip})
    assert info["non_nested"] == 0  # nested on this frame, so the identity below is exact
    for s in info["values"]:
        single = get_detector(name, sigclip=s).detect(image, gain=1.0, read_noise=READ_NOISE)
        np.testing.assert_array_equal(score >= s, single, err_msg=f"{name} at sigclip={s}")
    assert (score == 0).mean() > 0.9  # most pixels are never flagged


def test_sky_subtracted_image_gets_the_same_astroscrappy_mask(frame):
    image, _, _ = frame
    det = _detector("astroscrappy")
    with_sky = det.detect(image, gain=2.0, read_noise=READ_NOISE)
    without = det.detect(image - np.float32(SKY), gain=2.0, read_noise=READ_NOISE)
    assert with_sky.sum() > 0
    assert (with_sky ^ without).sum() <= 2


def test_image_fields_are_used(frame):
    image, _, hits = frame
    det = _detector("astroscrappy")
    mask = np.zeros(image.shape, bool)
    mask[tuple(np.array(hits[0]).T)] = True  # a masked hit is never flagged
    img = as_image(image, mask=mask, gain=1.0, read_noise=READ_NOISE)
    found = det.detect(img)
    assert not found[mask].any() and found[tuple(np.array(hits[1]).T)].any()
    np.testing.assert_array_equal(found, det.detect(image, mask=mask, gain=1.0, read_noise=READ_NOISE))


def test_registry_and_errors():
    assert {"astroscrappy", "lacosmic", "deepcr:ACS-WFC", "cosmic-conn:ground_imaging", "maximask"} <= set(list_detectors())
    with pytest.raises(AstrocleanKeyError, match="known: .*astroscrappy"):
        get_detector("nope")
    with pytest.raises(KeyError):
        get_detector("nope")
    with pytest.raises(AstrocleanValueError, match="already registered"):
        register_detector("astroscrappy", AstroscrappyDetector)
    with pytest.raises(ValueError, match="threshold must be in"):
        DeepCRDetector("ACS-WFC", threshold=1.5)
    with pytest.raises(ValueError, match="model must be one of"):
        DeepCRDetector("WFPC2")
    with pytest.raises(ValueError, match="gain must be finite"):
        get_detector("astroscrappy").detect(np.ones((8, 8)), gain=-1.0)


class _Missing(Detector):
    name, requires = "missing", ("astroclean_no_such_module",)


class _Crashing(Detector):
    name = "crashing"

    def _score(self, prep):
        return 1 / 0


def test_missing_package_and_crash_are_reported():
    ok, reason = _Missing().available()
    assert not ok and INSTALL_HINT in reason and "astroclean_no_such_module" in reason
    with pytest.raises(DetectorUnavailableError, match="missing cannot run"):
        _Missing().detect(np.ones((8, 8)))
    message = r"crashing failed in score\(\) on a \(8, 8\) image: ZeroDivisionError"
    with pytest.raises(DetectorError, match=message) as info:
        _Crashing().score(np.ones((8, 8)))
    assert isinstance(info.value.__cause__, ZeroDivisionError) and isinstance(info.value, RuntimeError)


def test_missing_weights_make_a_network_unavailable(monkeypatch):
    pytest.importorskip("deepCR", reason="deepCR is not installed (pip install astroclean[peers])")
    det = DeepCRDetector("decam")
    monkeypatch.setattr(det, "_weights", lambda: None)
    ok, reason = det.available()
    assert not ok and "ships no weights for 'decam'" in reason


def test_loading_cosmic_conn_leaves_global_state_alone():
    det = _detector("cosmic-conn:ground_imaging")
    torch = pytest.importorskip("torch")
    before = (torch.backends.cudnn.benchmark, list(logging.getLogger().handlers), logging.getLogger().level)
    det.load()
    after = (torch.backends.cudnn.benchmark, list(logging.getLogger().handlers), logging.getLogger().level)
    assert before == after
