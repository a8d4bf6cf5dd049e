"""Plots of a fashion_mnist.py run (matplotlib, Agg backend): batch loss against step, against
wall time and against modelled device time, one file each, plus one figure with those three
panels and the test accuracy against step."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib import ticker  # noqa: E402
import numpy as np  # noqa: E402

LOSS_TICKS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
COLORS = {"sgd": "tab:gray", "adam": "tab:orange", "ngd": "tab:blue", "tngd": "tab:red"}
LABELS = {"sgd": "SGD", "adam": "Adam", "ngd": "NGD (exact)", "tngd": "TNGD (board)"}


def smooth(values, window: int) -> np.ndarray:
    """Trailing running mean over `window` steps (the first steps average what there is)."""
    v = np.asarray(values, dtype=float)
    if window <= 1 or v.size == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    out = np.empty_like(v)
    for i in range(v.size):
        lo = max(0, i + 1 - window)
        out[i] = (c[i + 1] - c[lo]) / (i + 1 - lo)
    return out


def _window(results: dict) -> int:
    steps = max((len(r["steps"]["loss"]) for r in results["optimizers"].values()), default=1)
    return max(1, steps // 40)


def _panel(ax, results: dict, x_key: str, xlabel: str, log_x: bool = False) -> None:
    window = _window(results)
    skipped = []
    for name, r in results["optimizers"].items():
        s = r["steps"]
        x = np.asarray(s[x_key], dtype=float)
        if x_key != "step" and not np.any(x > 0):
            skipped.append(LABELS.get(name, name))
            continue
        y = smooth(s["loss"], window)
        ax.plot(x, y, color=COLORS.get(name), label=LABELS.get(name, name), lw=1.4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"train batch loss (mean of {window} steps)" if window > 1 else
                  "train batch loss")
    if log_x:
        ax.set_xscale("log")
    ax.set_yscale("log")
    first = [r["steps"]["loss"][0] for r in results["optimizers"].values() if r["steps"]["loss"]]
    if first and all(np.isfinite(first)):
        ax.set_ylim(top=1.3 * max(first))   # a diverging run does not flatten the rest
    ax.yaxis.set_major_locator(ticker.FixedLocator(LOSS_TICKS))
    ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    ax.grid(alpha=0.3, which="both")
    if skipped:
        ax.text(0.98, 0.97, "no device time (0 s): " + ", ".join(skipped), ha="right", va="top",
                transform=ax.transAxes, fontsize=7, color="0.35")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="lower left")


def _accuracy_panel(ax, results: dict) -> None:
    for name, r in results["optimizers"].items():
        e = r["evaluations"]
        ax.plot(e["step"], np.asarray(e["test_accuracy"]) * 100, color=COLORS.get(name),
                label=LABELS.get(name, name), lw=1.4)
    n = results["settings"]["test_examples"]
    ax.set_xlabel("step")
    ax.set_ylabel(f"test accuracy (%, {n} images)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")


PANELS = (
    ("loss_vs_step.png", "step", "step", False),
    ("loss_vs_wall_time.png", "wall_time_s", "wall time on this host (s, cumulative, log)",
     True),
    ("loss_vs_device_time.png", "device_time_s",
     "modelled device time (s, cumulative, opt.last_step)", False),
)


def write_plots(results: dict, out_dir: str) -> list[str]:
    """Writes the three single plots and comparison.png into out_dir; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    title = results["settings"]["title"]
    paths = []
    for file_name, key, xlabel, log_x in PANELS:
        fig, ax = plt.subplots(figsize=(6.0, 4.0), dpi=90)
        _panel(ax, results, key, xlabel, log_x)
        ax.set_title(title, fontsize=9)
        fig.tight_layout()
        path = os.path.join(out_dir, file_name)
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    fig, axes = plt.subplots(2, 2, figsize=(10.0, 7.2), dpi=80)
    for ax, (_, key, xlabel, log_x) in zip(axes.flat, PANELS):
        _panel(ax, results, key, xlabel, log_x)
    _accuracy_panel(axes.flat[3], results)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = os.path.join(out_dir, "comparison.png")
    fig.savefig(path)
    plt.close(fig)
    paths.append(path)
    return paths
