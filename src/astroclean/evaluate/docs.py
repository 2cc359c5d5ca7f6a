"""Benchmark reports into docs pages: markdown tables, number format, git provenance, the page updater.

Every task's benchmark writes ``table.md`` into a report folder; :func:`update_docs_page` puts it
between the ``<!-- benchmark-report:begin -->`` and ``<!-- benchmark-report:end -->`` markers of a
docs page, so the numbers a page quotes are the ones a command produced.

Example
-------
>>> print("\n".join(markdown_table(["method", "TPR"], [["ours", format_number(0.91234)]])))
| method | TPR |
|---|---|
| ours | 0.912 |
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from astroclean.errors import AstrocleanFileError
from astroclean.io.write import atomic_write

__all__ = ["DOCS_BEGIN", "DOCS_END", "update_docs_page", "check_docs_page", "markdown_table", "format_number",
           "git_commit"]


def format_number(value, digits=3):
    """A table cell: ``-`` for None/NaN, ``digits`` significant decimals for floats."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, (float, np.floating)):
        return f"{value:.{digits}g}" if abs(value) >= 10 ** digits else f"{value:.{digits}f}"
    return str(value)


def markdown_table(header, lines):
    """Lines of a markdown table (``|`` inside a cell becomes ``/``)."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(str(c).replace("|", "/") for c in line) + " |" for line in lines]


def git_commit():
    """``(commit, dirty)`` of the source tree astroclean runs from, or ``(None, None)`` outside git."""
    import subprocess
    from pathlib import Path

    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit or None, bool(dirty)


DOCS_BEGIN, DOCS_END = "<!-- benchmark-report:begin -->", "<!-- benchmark-report:end -->"


def update_docs_page(page, report_dir, *, plots=None) -> Path:
    """Put ``report_dir/table.md`` (and timing.md) between the markers of a docs page, links made relative to it.

    The page keeps its hand-written text; only the part between
    ``<!-- benchmark-report:begin -->`` and ``<!-- benchmark-report:end -->``
    is replaced (headings one level down). Written atomically. ``plots``:
    image files of ``report_dir`` appended under "Plots" (none when
    ``table.md`` embeds its own).

    Raises
    ------
    AstrocleanFileError
        The page or the report is missing, or the page has no markers.
    """
    import os
    import re

    page, report_dir = Path(page), Path(report_dir)
    for path in (page, report_dir / "table.md"):
        if not path.is_file():
            raise AstrocleanFileError(f"{path} does not exist")
    text = page.read_text()
    if DOCS_BEGIN not in text or DOCS_END not in text:
        raise AstrocleanFileError(f"{page} has no {DOCS_BEGIN} ... {DOCS_END} markers to put the report between")
    prefix = Path(os.path.relpath(report_dir, page.parent)).as_posix()
    parts = [(report_dir / "table.md").read_text()]
    if (report_dir / "timing.md").is_file():
        parts.append((report_dir / "timing.md").read_text())
    body = "\n".join(parts)
    body = re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", body, flags=re.M)
    body = re.sub(r"\]\(([\w.\-]+\.(?:png|md|ecsv))\)", lambda m: f"]({prefix}/{m.group(1)})", body)
    plots = plots or ()
    images = "\n".join(f"![{name[:-4]}]({prefix}/{name})" for name in plots if (report_dir / name).is_file())
    head, rest = text.split(DOCS_BEGIN, 1)
    tail = rest.split(DOCS_END, 1)[1]
    plot_section = f"### Plots\n\n{images}\n\n" if images else ""
    new = f"{head}{DOCS_BEGIN}\n\n{body}\n{plot_section}{DOCS_END}{tail}"
    return atomic_write(page, lambda tmp: Path(tmp).write_text(new), overwrite=True)


def check_docs_page(page) -> Path:
    """Fail before a long run, not after it: ``page`` must exist and hold both markers."""
    from astroclean.errors import AstrocleanValueError

    page = Path(page)
    if not page.is_file() or DOCS_BEGIN not in page.read_text() or DOCS_END not in page.read_text():
        raise AstrocleanValueError(f"--docs {page}: need an existing page with {DOCS_BEGIN} and {DOCS_END}")
    return page
