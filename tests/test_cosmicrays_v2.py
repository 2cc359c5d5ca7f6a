"""Issue 10: core-charge target, explicit dilation, unsaturated scores, the --fpr threshold, the
noise channel, detector artefacts, and the unseen-instrument benchmark frames."""

import copy

import numpy as np
import pytest
from scipy import ndimage

from astroclean.cosmicrays import CosmicRayDetector
from astroclean.cosmicrays.detect import dilate_sparse
from astroclean.cosmicrays.features import electrons_per_unit_of, minimum_3x3, network_input, noise_channel
from astroclean.cosmicrays.fpr import check_fpr, flip_image, threshold_from_scores
from astroclean.errors import AstrocleanValueError
from astroclean.image import as_image
from astroclean.cosmicrays.simulate.artefacts import ARTEFACTS, EXTRA_ARTEFACTS, STAR_ARTEFACTS, add_artefacts


def _frame_with_hits(seed=0, shape=(96, 96), n=25):
    rng = np.random.default_rng(seed)
    image = rng.normal(200.0, 5.0, shape).astype("f4")
    ys, xs = rng.integers(5, shape[0] - 5, n), rng.integers(5, shape[1] - 5, n)
    for y, x in zip(ys, xs):
        image[y, x:x + 3] += rng.uniform(200, 3000)
    return image


@pytest.fixture(scope="module")
def detector():
    return CosmicRayDetector("ground")


def test_core_target_keeps_only_charge_above_the_noise():
    from astroclean.cosmicrays.train import core_target

    class S:
        truth = np.array([[True, True, True, False]])
        snr = np.array([[0.0, 0.5, 3.0, 9.0]], "f4")

    assert core_target(S, min_snr=1.0).tolist() == [[False, False, True, False]]
    assert core_target(S, min_snr=0).tolist() == S.truth.tolist()     # 0 = the v1 footprint


def test_dilation_is_a_post_threshold_step(detector):
    image = _frame_with_hits()
    bad = np.zeros(image.shape, bool)
    bad[:, :3] = True
    r0 = detector.detect(image, mask=bad, dilate=0)
    r1 = detector.detect(image, mask=bad, dilate=1)
    assert np.array_equal(r0.logit[~bad], r1.logit[~bad])              # the score does not change
    assert np.array_equal(r1.cr_mask, ndimage.binary_dilation(r0.cr_mask) & ~bad)
    assert r1.meta["dilate"] == 1 and r0.meta["dilate"] == 0
    with pytest.raises(AstrocleanValueError, match="dilate"):
        detector.detect(image, dilate=-1)


def test_default_dilation_comes_from_the_card(detector):
    assert detector.default_dilate == int(detector.card.extra.get("default_dilate", 0))
    assert detector.detect(_frame_with_hits()).meta["dilate"] == detector.default_dilate


def test_scores_keep_their_ranking_no_saturation(detector):
    r = detector.detect(_frame_with_hits(n=40))
    flagged = r.logit[r.cr_mask]
    assert flagged.size > 50
    top = np.sum(flagged == flagged.max())
    assert top <= max(1, int(1e-3 * flagged.size))                     # < 0.1 % share the top value
    np.testing.assert_allclose(r.probability, 1 / (1 + np.exp(-r.logit.astype("f8"))), rtol=1e-5, atol=1e-6)


def test_threshold_from_scores_matches_the_quantile():
    scores = np.random.default_rng(1).normal(size=200_000)
    t = threshold_from_scores(scores, 1e-3)
    assert (scores >= t).mean() == pytest.approx(1e-3, rel=0.01)
    mask = np.zeros(scores.shape, bool)
    mask[scores > 2] = True                                            # masked pixels are left out
    assert threshold_from_scores(scores, 1e-3, mask=mask) < 2
    assert threshold_from_scores(np.zeros(10), 1e-4) > 0                # fewer than 1/fpr pixels: flag none
    with pytest.raises(AstrocleanValueError, match="fpr"):
        check_fpr(0.7)


def test_flip_keeps_noise_turns_hits_into_holes():
    sky = np.full((4, 4), 10.0, "f4")
    data = sky.copy()
    data[1, 1] = 100.0
    flipped = flip_image(data, sky)
    assert flipped[1, 1] == -80.0 and flipped[0, 0] == 10.0


def test_fpr_threshold_on_pure_noise(detector):
    image = np.random.default_rng(3).normal(500.0, 10.0, (128, 128)).astype("f4")
    r = detector.detect(image, fpr=1e-2, dilate=0)
    assert r.meta["fpr_target"] == 1e-2 and "threshold_logit" in r.meta
    assert 0 < r.threshold < 1
    assert r.cr_mask.mean() < 3e-2                                        # the same noise: about the target
    r2 = detector.detect(_frame_with_hits(), fpr=1e-3)
    assert r2.cr_mask.sum() > 0                                           # hits stay above a noise-based threshold


def test_noise_channel_sees_sources_not_hits():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[:64, :64]
    star = 5e4 * np.exp(-((y - 20) ** 2 + (x - 20) ** 2) / (2 * 2.0 ** 2))
    data = rng.poisson(400.0 + star).astype("f4")
    data[45, 40] += 5e4                                                # a one-pixel hit
    img = as_image(data, gain=1.0, unit="electron")
    x2, info = network_input(img, channels=2)
    assert x2.shape == (2, 64, 64) and info["noise_channel"] == "unit"
    n = x2[1]
    assert n[20, 20] > 1.0                                             # a star's core is noisy
    assert n[45, 40] < 0.2 and np.median(n) < 0.05                     # the hit and the sky are not
    x1, _ = network_input(img, channels=1)
    np.testing.assert_array_equal(x1, x2[0])                           # channel 0 = the v1 input


def test_fast_filters_equal_scipy_edges_included():
    rng = np.random.default_rng(3)
    for shape in ((1, 1), (2, 5), (37, 53)):
        a = rng.standard_normal(shape).astype("f4")
        np.testing.assert_array_equal(minimum_3x3(a), ndimage.minimum_filter(a, size=3, mode="nearest"))
        m = rng.random(shape) < 0.05
        m[0, 0] = m[-1, -1] = True                                     # corners: nothing leaks outside
        for n in (1, 2, 3):
            np.testing.assert_array_equal(dilate_sparse(m, iterations=n), ndimage.binary_dilation(m, iterations=n))
    assert not dilate_sparse(np.zeros((4, 4), bool)).any()


def test_noise_channel_without_gain_or_sky_is_zero():
    data = np.random.default_rng(0).normal(0.0, 3.0, (32, 32)).astype("f4")   # sky subtracted, no GAIN
    img = as_image(data)
    x, info = network_input(img, channels=2)
    assert info["noise_channel"] == "unknown" and not x[1].any()
    assert noise_channel(data, np.zeros_like(data), np.ones_like(data), None).sum() == 0
    raw = as_image(np.random.default_rng(0).poisson(900.0, (32, 32)).astype("f4"))  # raw frame with sky
    from astroclean.inference import normalise

    _, norm = normalise(raw)
    epu, how = electrons_per_unit_of(raw, norm.sky, norm.noise)
    assert how == "sky" and epu == pytest.approx(1.0, rel=0.3)          # the effective gain


@pytest.mark.parametrize("kind", ARTEFACTS + EXTRA_ARTEFACTS + STAR_ARTEFACTS)
def test_artefacts_are_finite_and_change_the_patch(kind):
    rng = np.random.default_rng(0)
    data = rng.normal(100.0, 5.0, (64, 64))
    before = data.copy()
    out, saturated, kinds = add_artefacts(data, 5.0, rng=1, kinds=(kind,))
    assert np.array_equal(data, before) and kinds == [kind]
    assert np.isfinite(out).all() and np.abs(out - data).max() > 1.0
    if kind == "bleed_star":
        assert saturated.any()


def test_unseen_frames_ship_with_licences():
    from astroclean.cosmicrays.simulate.registry_frames import load_registry_frames

    frames = load_registry_frames("unseen")
    assert len(frames) >= 4
    for f in frames:
        assert f.variance is not None and f.meta["licence"] and f.meta["origin"]
        assert "mgefit" not in f.meta["origin"] and "eso-midas" not in f.meta["origin"]
    assert len(load_registry_frames("train")) >= 1


def test_unseen_recipe_groups_by_instrument():
    from astroclean.cosmicrays.evaluate.benchmark_set import RECIPES, UNSEEN_PREFIX, build_benchmark_set

    recipe = copy.deepcopy(RECIPES["unseen"])
    recipe.update(crop=64, tile=64)
    recipe["realisations"] = {k: 1 for k in recipe["realisations"]}
    cases = build_benchmark_set(recipe)
    groups = {c.flavour for c in cases}
    assert len(groups) >= 4 and all(g.startswith(UNSEEN_PREFIX) for g in groups)
    assert all(c.meta["library_split"] == "benchmark" for c in cases)
    peaks = [c.snr[c.truth].max() for c in cases if c.truth.any()]
    assert max(peaks) <= 500 * 1.01


def test_spiked_star_has_thin_radial_spikes():
    # 12 px from the star, above the star's own (azimuthal median) light, the spikes are 4 or 6 narrow arms
    data, angle = np.zeros((128, 128)), np.linspace(0, 2 * np.pi, 720, endpoint=False)
    arms = []
    for seed in range(40):
        out, saturated, _ = add_artefacts(data, 1.0, rng=seed, kinds=("spiked_star",))
        assert not saturated.any()
        cy, cx = np.unravel_index(np.argmax(out), out.shape)
        if not (20 <= cy < 108 and 20 <= cx < 108 and out.max() > 300):
            continue
        ring = out[np.round(cy + 12 * np.sin(angle)).astype(int), np.round(cx + 12 * np.cos(angle)).astype(int)]
        excess = ring - np.median(ring)
        on = excess > 0.5 * excess.max()
        runs = int(np.sum(on & ~np.roll(on, 1)))
        arms.append((runs, excess.max(), on.mean()))
    assert len(arms) >= 10
    spiky = [a for a in arms if 2 <= a[0] <= 6 and a[1] > 3.0 and a[2] < 0.2]
    assert len(spiky) >= 0.7 * len(arms), arms
