"""The shared core of every benchmark: the Benchmark protocol lives in ``astroclean.tasks``;
here are the docs-page updater and table helpers (:mod:`~astroclean.evaluate.docs`) and the figure
helpers (:mod:`~astroclean.evaluate.figures`). Each task's benchmark lives in its slice:
``astroclean.cosmicrays.evaluate`` (harness, peers, report, near-star, photometry and density
analyses, self-test) and ``astroclean.sources.evaluate``.

>>> from astroclean.evaluate.docs import markdown_table, update_docs_page   # doctest: +SKIP
"""
