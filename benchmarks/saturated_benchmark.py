#!/usr/bin/env python
"""The saturated-star part of the cosmic-ray benchmark alone (the same analysis ``astroclean evaluate cosmic``
runs as ``--analyses saturated``): two saturated stars with bleed trails painted on each held-out case,
every method run at its default operating point, false flags within 2 px of saturation counted::

    OMP_NUM_THREADS=1 python benchmarks/saturated_benchmark.py astroclean:auto,astroscrappy,lacosmic,... docs/benchmark/saturated
"""
import sys, time
from astroclean.cosmicrays.evaluate.benchmark_set import build_benchmark_set
from astroclean.cosmicrays.evaluate.harness import make_detector
from astroclean.cosmicrays.evaluate.saturated import saturated_star_metrics
from astroclean.inference.device import set_threads
set_threads(1)
cases = build_benchmark_set("default")
methods = sys.argv[1].split(",")
dets = {}
for m in methods:
    d = make_detector(m)
    ok, why = d.available()
    if ok:
        d.load(); dets[m] = d
    else:
        print("skip", m, why)
t = time.time()
res = saturated_star_metrics(cases, dets)
t = time.time() - t
print(f"{len(cases)} cases, {t:.0f} s")
tab = res.table()
for c in tab.colnames[3:]:
    tab[c].info.format = ".4g"
tab.pprint(max_width=200)
print("failures:", res.failures)
res.plot(sys.argv[2] + ".png"); tab.write(sys.argv[2] + ".ecsv", overwrite=True)
