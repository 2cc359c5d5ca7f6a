"""A progress bar for a batch run: units finished, done / failed / skipped, rate and ETA.

Example
-------
>>> bar = Progress(3, desc="demo", enabled=False)
>>> bar.update("done"); bar.update("failed"); bar.update("skipped")
>>> bar.counts
{'done': 1, 'failed': 1, 'skipped': 1}
>>> bar.close()
"""

from __future__ import annotations

import sys


class Progress:
    """tqdm bar over ``total`` units; ``enabled=None`` shows it only on a terminal (stderr).

    ``update(status)`` advances it by one and counts ``status`` (None: count nothing).
    """

    def __init__(self, total: int, *, desc: str, enabled: bool | None = None,
                 statuses=("done", "failed", "skipped")):
        from tqdm import tqdm

        self.counts = dict.fromkeys(statuses, 0)
        disable = None if enabled is None else not enabled
        self._bar = tqdm(total=total, desc=desc, unit="task", file=sys.stderr, disable=disable,
                         dynamic_ncols=True, smoothing=0.1)

    def update(self, status: str) -> None:
        if status is not None:
            self.counts[status] = self.counts.get(status, 0) + 1
            self._bar.set_postfix(self.counts, refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()
