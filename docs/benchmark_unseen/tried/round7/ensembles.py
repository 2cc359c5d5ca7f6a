"""The record of the seventh round's ensemble comparison (session 9): six mean/min rules of cr-any, cr-any-fs,
cr-any-sp and cr-any-fs-sp, each member's logit minus its card threshold, flagged at 0, through the real harness;
logits cached per image. cr-any-sp and cr-any-fs-sp are not shipped: retrain them with the commands of their cards
in this folder (``-o src/astroclean/weights``) before running
``python ensembles.py OUT unseen default near-stars-large``."""
import hashlib, sys, math
from pathlib import Path
import numpy as np
sys.path.insert(0, "/work/main/scripts")
from astroclean.cosmicrays.evaluate.peers import Detector
from astroclean.cosmicrays.evaluate.ours import AstrocleanDetector
from astroclean.cosmicrays.detect import dilate_sparse

CACHE = {}
BASE = {m: AstrocleanDetector(m) for m in ("cr-any", "cr-any-fs", "cr-any-sp", "cr-any-fs-sp")}
T = {"cr-any": 3.2647, "cr-any-fs": 1.7022, "cr-any-sp": 2.6189, "cr-any-fs-sp": 4.0513}

def logits(prep):
    key = hashlib.sha1(np.ascontiguousarray(prep.data).tobytes()).hexdigest()
    if key not in CACHE:
        CACHE[key] = {m: d._score(prep) - T[m] for m, d in BASE.items()}
    return CACHE[key]

class Combo(Detector):
    family = "astroclean"; requires = ("torch",); distribution = "astroclean"
    def __init__(self, name, rule):
        self.name, self.rule = name, rule
    def _check(self): return True, ""
    def parameters(self): return {"rule": self.name}
    def _score(self, prep):
        l = logits(prep)
        return self.rule(l).astype("f4")
    def _detect(self, prep): return self.mask_from_score(self._score(prep))
    def mask_from_score(self, s):
        with np.errstate(invalid="ignore"):
            return dilate_sparse(np.asarray(s) >= 0, iterations=1)

RULES = {
    "mean(v3,fs-sp)": lambda l: 0.5 * (l["cr-any"] + l["cr-any-fs-sp"]),
    "mean(v3,sp)": lambda l: 0.5 * (l["cr-any"] + l["cr-any-sp"]),
    "min(v3,sp)": lambda l: np.minimum(l["cr-any"], l["cr-any-sp"]),
    "mean(fs,fs-sp)": lambda l: 0.5 * (l["cr-any-fs"] + l["cr-any-fs-sp"]),
    "mean(sp,fs-sp)": lambda l: 0.5 * (l["cr-any-sp"] + l["cr-any-fs-sp"]),
    "mean(v3,fs,fs-sp)": lambda l: (l["cr-any"] + l["cr-any-fs"] + l["cr-any-fs-sp"]) / 3,
}

def main():
    from astroclean.cosmicrays.evaluate.benchmark_set import build_benchmark_set
    from astroclean.cosmicrays.evaluate.harness import run_benchmark
    from astroclean.cosmicrays.evaluate.report import write_report
    from cr_threshold_report import flagged_rows, markdown
    from cr_near_stars_table import table
    out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
    for part in sys.argv[2:]:
        cases = build_benchmark_set(part)
        dets = [Combo(n, r) for n, r in RULES.items()]
        res = run_benchmark(cases, dets, rng=0, threads=1, n_boot=20)
        text = f"## {part}\n\n" + markdown(flagged_rows(res))
        folder = out / part
        write_report(res, folder, overwrite=True,
                     analyses=["stars", "photometry"] if part.startswith("near") else ())
        if part.startswith("near"):
            text += "\n" + table(folder)
        (out / f"{part}.md").write_text(text); print(text, flush=True)
        CACHE.clear()

main()
