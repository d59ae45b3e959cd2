"""The contrast of two schemes as a figure: one small panel per quantity, a bar for each scheme."""

from __future__ import annotations

import textwrap

from .figures import PALETTE, new_figure

__all__ = ["contrast_figure"]


def contrast_figure(rows, name_a: str, name_b: str):
    """A figure of the contrast rows (``scslab.contrast.Row``): per quantity, both values in its unit."""
    shown = [r for r in rows if r.a is not None or r.b is not None]
    cols = 4
    fig, axes = new_figure(-(-len(shown) // cols), cols, size=(11, 2.4 * -(-len(shown) // cols)))
    for ax, r in zip(axes.flat, shown):
        values = [r.a or 0, r.b or 0]
        ax.bar([0, 1], values, color=[PALETTE[0], PALETTE[1]])
        ax.set_xticks([0, 1], [name_a, name_b], fontsize=7)
        ax.set_title("\n".join(textwrap.wrap(r.name, 28)), fontsize=8)
        ax.set_ylabel("\n".join(textwrap.wrap(r.unit, 18)), fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_ylim(0, max(max(values), 1e-9) * 1.2)  # room for the labels
        for x, v, given in zip([0, 1], values, [r.a, r.b]):
            ax.annotate("n/a" if given is None else f"{v:,.3g}", (x, v), ha="center", va="bottom", fontsize=7)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    fig.suptitle(f"{name_a} against {name_b}: the same population size, days and seed (model numbers)",
                 fontsize=10)
    return fig
