"""The classic needle-in-a-haystack picture: accuracy by depth (or task) and length, as PNG."""

from __future__ import annotations

import io
from pathlib import Path

from codectx.errors import CodectxError
from codectx.evals.runner import Run
from codectx.files import write_bytes_atomic


def length_label(tokens: int) -> str:
    return f"{tokens // 1000}k" if tokens % 1000 == 0 else f"{tokens:,}"


def require_matplotlib() -> None:
    """A CodectxError naming the extra to install, where matplotlib is missing."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise CodectxError("`codectx eval` draws its heatmap with matplotlib, which is not "
                           "installed; nothing was run",
                           "Install it with `pip install 'codectx[plot]'`, then run the "
                           "eval again.")


def heatmap_png(run: Run) -> bytes:
    """The run's cells as a heatmap: green right, red wrong, grey not run; scores written in."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt
    import numpy as np

    rows, lengths = run.rows(), run.lengths
    cells = run.cells()
    grid = np.full((len(rows), len(lengths)), np.nan)
    for (row, length), (score, _) in cells.items():
        if row in rows and length in lengths:
            grid[rows.index(row), lengths.index(length)] = score
    width = max(4.0, 1.1 * len(lengths) + 2.0)
    height = max(2.5, 0.45 * len(rows) + 1.6)
    figure, axes = plt.subplots(figsize=(width, height), dpi=120)
    colours = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#d9d9d9")
    image = axes.imshow(np.ma.masked_invalid(grid), cmap=colours, vmin=0.0, vmax=1.0,
                        aspect="auto")
    axes.set_xticks(range(len(lengths)), [length_label(n) for n in lengths])
    axes.set_yticks(range(len(rows)), rows)
    axes.set_xlabel("haystack length (tokens)")
    axes.set_ylabel("needle depth" if run.kind == "niah" else "task")
    for (r, c), value in np.ndenumerate(grid):
        if not np.isnan(value):
            label = f"{value:.2g}"  # 0, 0.5, 0.75, 1
            dark = value < 0.2 or value > 0.8  # the colour map's ends are dark
            axes.text(c, r, label, ha="center", va="center", fontsize=9,
                      color="white" if dark else "black")
    title = f"codectx eval {run.kind}: {run.model} on {run.repository}"
    axes.set_title(title + (" (interrupted)" if run.interrupted else ""), fontsize=9)
    figure.colorbar(image, ax=axes, label="accuracy", fraction=0.05)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def write_heatmap(run: Run, target: Path) -> None:
    write_bytes_atomic(target, heatmap_png(run))
