"""Issue 10, step 1: cutouts around the highest-scoring clean (non-truth) pixels of the unseen part.

    python scripts/cr_look_false_positives.py gemini_gmos_s_spectrum,aspen_cg16_amateur \
        astroclean:cr-any,astroscrappy docs/benchmark_unseen/look

For each frame and method: the 16 highest-scoring local maxima (7x7) among pixels outside every injected
footprint and outside the bad-pixel mask, with the image (cyan: masked, yellow: injected footprints) and
row/column cuts in units of the noise; prints the clean fraction flagged at each method's default.
"""
import sys, numpy as np, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from scipy import ndimage
from astroclean.cosmicrays.evaluate.benchmark_set import build_benchmark_set
from astroclean.cosmicrays.evaluate.harness import make_detector
from astroclean.cosmicrays.evaluate.scoring import scored_truth

frames = sys.argv[1].split(",")
methods = sys.argv[2].split(",") if len(sys.argv) > 2 else ["astroclean:cr-any", "astroscrappy"]
out = sys.argv[3] if len(sys.argv) > 3 else "look"
cases = [c for c in build_benchmark_set("unseen") if any(f in c.name for f in frames)]
dets = {m: make_detector(m) for m in methods}
for d in dets.values():
    d.load()
for frame in frames:
    fc = [c for c in cases if frame in c.name]
    for m, d in dets.items():
        recs = []
        for ci, c in enumerate(fc):
            s = np.asarray(d.score(c.image, mask=c.bad, variance=c.variance, gain=c.gain, read_noise=c.read_noise,
                                   saturation=c.saturation), dtype=np.float64)
            t = scored_truth(c)
            neg = ~(c.truth | c.bad)   # clean, outside the whole stored footprint
            s2 = np.where(neg, s, -np.inf)
            # local maxima only, so one object gives one cutout
            mx = (s2 == ndimage.maximum_filter(s2, 7)) & np.isfinite(s2)
            for y, x in zip(*np.nonzero(mx)):
                recs.append((s2[y, x], ci, y, x))
            # fraction of negatives flagged at default
            msk = d.detect(c.image, mask=c.bad, variance=c.variance, gain=c.gain, read_noise=c.read_noise,
                           saturation=c.saturation)
            print(m, c.name, "flagged clean frac", float((msk & neg).sum() / neg.sum()))
        recs.sort(key=lambda r: -r[0])
        top = recs[:16]
        fig, axes = plt.subplots(4, 8, figsize=(16, 8.5))
        for k, (sv, ci, y, x) in enumerate(top):
            c = fc[ci]
            h = 10
            y0, y1, x0, x1 = max(0, y - h), y + h + 1, max(0, x - h), x + h + 1
            cut = c.clean[y0:y1, x0:x1]
            ctr = c.image[y0:y1, x0:x1]
            med = np.median(c.clean[~c.bad]); sig = float(np.median(c.noise))
            ax = axes[(k // 8) * 2, k % 8]; ax2 = axes[(k // 8) * 2 + 1, k % 8]
            ax.imshow(np.arcsinh((ctr - med) / (3 * sig)), origin="lower", cmap="gray", vmin=-1, vmax=5)
            ax.plot(x - x0, y - y0, "r+", ms=8)
            bb = c.bad[y0:y1, x0:x1]; tt = c.truth[y0:y1, x0:x1]
            ax.contour(bb, [0.5], colors="cyan", linewidths=0.6)
            ax.contour(tt, [0.5], colors="yellow", linewidths=0.6)
            ax.set_title(f"c{ci} ({y},{x}) s={sv:.3g}", fontsize=7)
            pk = (c.clean[y, x] - np.median(c.clean[max(0,y-15):y+16, max(0,x-15):x+16])) / c.noise[y, x]
            ax2.plot(np.arange(x0, min(x1, c.image.shape[1])), (c.clean[y, x0:x1] - med) / sig, "k-", lw=0.8, label="row")
            ax2.plot(np.arange(y0, min(y1, c.image.shape[0])), (c.clean[y0:y1, x] - med) / sig, "b-", lw=0.8, label="col")
            ax2.set_title(f"peak {pk:.1f} sig", fontsize=7)
            ax2.tick_params(labelsize=5)
        for ax in axes.ravel():
            ax.set_xticks([]) if ax.images else None
        fig.suptitle(f"{frame}: {m}: top clean local maxima (cyan=bad/masked, yellow=injected footprint); rows: image, cuts (sigma)")
        fig.tight_layout()
        fn = f"{out}/fp_{frame}_{m.replace(':', '_')}.png"
        fig.savefig(fn, dpi=80); plt.close(fig)
        print("wrote", fn)
    # whole frame overview
    fig, axes = plt.subplots(1, len(fc[:: 2]), figsize=(5 * len(fc[::2]), 5))
    for ax, c in zip(np.atleast_1d(axes), fc[::2]):
        med = np.median(c.clean[~c.bad]); sig = float(np.median(c.noise))
        ax.imshow(np.arcsinh((c.clean - med) / (3 * sig)), origin="lower", cmap="gray", vmin=-1, vmax=6)
        ax.contour(c.bad, [0.5], colors="cyan", linewidths=0.5)
        ax.set_title(c.name, fontsize=8)
    fig.savefig(f"{out}/frame_{frame}.png", dpi=70); plt.close(fig)
