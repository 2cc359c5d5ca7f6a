"""The cosmic-ray benchmark: run any detector, ours or a peer's, on the same images.

* :mod:`~astroclean.cosmicrays.evaluate.cases`: ``BenchmarkCase``, the unit every analysis consumes.
* :mod:`~astroclean.cosmicrays.evaluate.benchmark_set`: the seeded, versioned benchmark set (held-out
  backgrounds and cosmic-ray hits only).
* :mod:`~astroclean.cosmicrays.evaluate.peers` (registry and input preparation),
  :mod:`~astroclean.cosmicrays.evaluate.peers_classical` (astroscrappy, lacosmic),
  :mod:`~astroclean.cosmicrays.evaluate.peers_deep` (deepCR, Cosmic-CoNN) and
  :mod:`~astroclean.cosmicrays.evaluate.ours`: one ``Detector`` protocol.
* :mod:`~astroclean.cosmicrays.evaluate.harness` and :mod:`~astroclean.cosmicrays.evaluate.report`: metrics
  per flavour, tables (markdown, ECSV) and plots.
* :mod:`~astroclean.cosmicrays.evaluate.stars`, :mod:`~astroclean.cosmicrays.evaluate.photometry`,
  :mod:`~astroclean.cosmicrays.evaluate.density`, :mod:`~astroclean.cosmicrays.evaluate.selftest`: near-star
  recall and precision, photometric damage, density sweep, self-test on a user's own frames.

>>> from astroclean.cosmicrays.evaluate.peers import list_detectors
>>> "astroscrappy" in list_detectors()
True
"""
