"""Benchmarks: run any cosmic-ray detector, ours or a peer's, on the same images.

* :mod:`~astroclean.evaluate.cases`: ``BenchmarkCase``, the unit every analysis consumes.
* :mod:`~astroclean.evaluate.benchmark_set`: the seeded, versioned benchmark set (held-out
  backgrounds and cosmic-ray hits only).
* :mod:`~astroclean.evaluate.peers` and :mod:`~astroclean.evaluate.ours`: one ``Detector`` protocol;
  adapters for astroscrappy, lacosmic, deepCR, Cosmic-CoNN (optional: ``pip install astroclean[peers]``)
  and for astroclean's own models.
* :mod:`~astroclean.evaluate.harness` and :mod:`~astroclean.evaluate.report`: metrics per flavour,
  tables (markdown, ECSV) and plots.
* :mod:`~astroclean.evaluate.stars`, :mod:`~astroclean.evaluate.photometry`,
  :mod:`~astroclean.evaluate.density`, :mod:`~astroclean.evaluate.selftest`: near-star recall and
  precision, photometric damage, cosmic-ray density sweep, self-test on a user's own frames.
* :mod:`~astroclean.evaluate.sources` (+ ``sources_summary``, ``sources_gamma``, ``sources_report``):
  the compact-source removal benchmark (flux ratios, background power spectra, pixel statistics,
  gamma Dra, throughput) behind ``astroclean evaluate sources``.

>>> from astroclean.evaluate.peers import list_detectors
>>> "astroscrappy" in list_detectors()
True
"""
