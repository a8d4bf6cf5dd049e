"""Whitelam's generative thermodynamic computer on kelvin's quartic resonator board: train on
small Fashion-MNIST prototypes by maximizing the likelihood of time-reversed noising paths under
the board's exact Strang substep (quantization-aware), then generate on the (emulated) board, on
the board with its flaws (with and without calibration) and digitally in float64, and score all
of them against the independent-pixel baseline (generative_quality.py).

    PYTHONPATH=build/python /usr/bin/python3 python/examples/quartic_generative.py [--quick] \
        --out-dir DIR

Prints one JSON object (also written to DIR/results.json) and writes PNG grids to DIR.
Method and settings: quartic_training.py (model, mapping, training), quartic_step.py (the board's
substep), quartic_sampling.py (generation); docs/generative.md discusses the numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generative_quality as gq  # noqa: E402
import quartic_sampling as qsm  # noqa: E402
import quartic_training as qt  # noqa: E402

# Trouser, Sneaker, Bag: three classes whose 14 x 14 silhouettes differ clearly, as Whitelam's
# digits 0, 1, 2 do; k-means prototypes per class stand in for his one prototype per class.
CLASSES = (1, 7, 8)
PAPER_KT_PER_DIGIT, PAPER_UNITS = 2.9e3, 784 + 512

FULL = dict(size=14, hidden=60, per_class=1, iterations=60, batch=8, transitions=200,
            lr=0.02, samples=64, pool=32, cal_mean=131072, cal_drift=65536)
QUICK = dict(size=7, hidden=15, per_class=1, iterations=100, batch=16, transitions=100,
             lr=0.5, samples=32, pool=32, cal_mean=32768, cal_drift=32768)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="7 x 7 images, 64 cells, short training")
    p.add_argument("--out-dir", default="quartic_out", help="results.json and PNGs go here")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--iterations", type=int, help="training iterations (default 60, quick 100)")
    p.add_argument("--samples", type=int, help="generated images per generator (64, quick 32)")
    p.add_argument("--per-class", type=int, help="prototypes per class (default 1, as Whitelam)")
    p.add_argument("--no-quartic-training", action="store_true", help="keep J4 = 1 fixed")
    p.add_argument("--model", help="skip training: load this model.pt (a previous run's, same "
                   "settings) and only generate and score")
    return p.parse_args(argv)


def load_kelvin():
    try:
        import kelvin
        return kelvin
    except ImportError:
        return None


def kelvin_cli(kelvin) -> str | None:
    path = os.environ.get("KELVIN_CLI")
    if not path and kelvin is not None:
        here = os.path.dirname(os.path.abspath(kelvin.__file__))
        path = os.path.normpath(os.path.join(here, "..", "..", "tools", "cli", "kelvin"))
    return path if path and os.access(path, os.X_OK) else None


def calibrate(cli: str, uri: str, path: str, cfg: dict) -> float:
    """`kelvin calibrate` on the board at uri into path; returns wall seconds."""
    t0 = time.time()
    subprocess.run([cli, "calibrate", "--uri", uri, "-o", path, "--mean-samples",
                    str(cfg["cal_mean"]), "--drift-samples", str(cfg["cal_drift"])],
                   check=True, capture_output=True, text=True, timeout=600)
    return time.time() - t0


def stats(x, ddof=1):
    x = np.asarray(x, dtype=np.float64)
    return float(x.mean()), float(x.std(ddof=ddof) / math.sqrt(len(x)))


def agreement(name, a01, b01, a_heat, b_heat) -> dict:
    """Board vs digital: fraction of pixels on per sample and heat per sample; difference with
    the standard error of the difference (independent samples, n - 1 dof each)."""
    out = {}
    for key, xa, xb in (("fraction_on", a01.mean(1), b01.mean(1)), ("heat_kt", a_heat, b_heat)):
        ma, sa = stats(xa)
        mb, sb = stats(xb)
        se = math.hypot(sa, sb)
        out[key] = {name: ma, "digital": mb, "difference": ma - mb, "stderr": se,
                    "z": (ma - mb) / se if se > 0 else 0.0}
    return out


def flaw_effect(volts, heats, name, threshold) -> dict:
    """A flawed board against the ideal one. Both run the same seed, so the same noise stream
    (common random numbers): differences are the flaws' (paired; stderr over samples, n - 1 dof)."""
    dv = np.asarray(volts[name]) - np.asarray(volts["board_ideal"])
    flips = (np.asarray(volts[name]) > threshold) != (np.asarray(volts["board_ideal"]) > threshold)
    dh_mean, dh_se = stats(np.asarray(heats[name]) - np.asarray(heats["board_ideal"]))
    return {"mean_abs_volts_difference": float(np.abs(dv).mean()),
            "max_abs_volts_difference": float(np.abs(dv).max()),
            "pixels_flipped_fraction": float(flips.mean()),
            "heat_kt_difference": dh_mean, "heat_kt_difference_stderr": dh_se}


def generator_entry(scorer, volts, heat, secs, threshold, cells, summary=None) -> dict:
    b01 = (np.asarray(volts) > threshold).astype(np.uint8)
    heat_mean, heat_se = stats(heat)
    entry = {"quality": scorer.score(b01), "heat_kt_mean": heat_mean, "heat_kt_stderr": heat_se,
             "heat_kt_per_cell": heat_mean / cells,
             "heat_kt_scaled_to_paper_units": heat_mean / cells * PAPER_UNITS,
             "wall_s": secs}
    if summary:
        entry["summary"] = summary
    return entry, b01


def plot_loss(path: str, losses) -> None:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3))
    w = max(1, len(losses) // 30)
    smooth = np.convolve(losses, np.ones(w) / w, mode="valid")
    ax.plot(losses, lw=0.5, alpha=0.5, label="per iteration")
    ax.plot(np.arange(len(smooth)) + w - 1, smooth, label=f"mean of {w}")
    ax.set_xlabel("iteration")
    ax.set_ylabel("NLL per substep transition (nats)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> dict:
    args = parse_args(argv)
    t_start = time.time()
    torch.set_num_threads(2)
    cfg = dict(QUICK if args.quick else FULL)
    for key in ("iterations", "samples", "per_class"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    os.makedirs(args.out_dir, exist_ok=True)
    size = cfg["size"]
    setup = qt.Setup(visible=size * size, hidden=cfg["hidden"], rows=size, cols=size,
                     seed=args.seed)
    timing = {}
    t0 = time.time()
    images, labels = gq.load_images("train", size, CLASSES)
    data = qt.make_data(setup, images, labels, CLASSES, cfg["per_class"])
    scorer = gq.Scorer.fit(size=size, classes=CLASSES, seed=args.seed)
    timing["data_and_scorer_s"] = time.time() - t0

    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    model = qt.Model(setup, train_quartic=not args.no_quartic_training)
    if args.model:
        saved = torch.load(args.model)
        model.load_state_dict(saved["state"])
        tr = qt.TrainResult(**saved["train"])
    else:
        tr = qt.train(model, data, cfg["iterations"], cfg["batch"], cfg["lr"], args.seed,
                      transitions=cfg["transitions"], pool=cfg["pool"], log=log)
        torch.save({"state": model.state_dict(), "train": vars(tr)},
                   os.path.join(args.out_dir, "model.pt"))
    timing["training_s"] = tr.seconds
    ck = qt.checkpoint(model, data, notes=f"quartic_generative.py classes {list(CLASSES)}, "
                       f"{cfg['per_class']} prototypes per class, alpha {setup.alpha}/us")
    ck_path = os.path.join(args.out_dir, "quartic_checkpoint.json")
    with open(ck_path, "w") as f:
        json.dump(ck, f)

    n, thr, vis = setup.cells, data.x_threshold, setup.visible
    gens, grids, heats, volts = {}, {}, {}, {}
    with torch.no_grad():
        a, b, j4 = (t.numpy() for t in model.board(False))
    x, heat, secs = qsm.strang_generate(a, b, j4, setup.alpha * qt.KT, cfg["samples"],
                                        setup.substeps_tf, args.seed + 11)
    gens["digital_float64"], grids["digital_float64"] = generator_entry(
        scorer, x[:, :vis], heat, secs, thr, n)
    heats["digital_float64"] = heat

    kelvin = load_kelvin()
    board_job = qsm.has_board_job(kelvin)
    base_uri = f"sim:resonator?cells={n}&seed={args.seed}"
    boards = {"board_ideal": (base_uri, "none"),
              "board_typical_uncalibrated": (base_uri + "&imperfections=typical", "none"),
              "board_typical_calibrated": (base_uri + "&imperfections=typical", "file")}
    notes = []
    for name, (uri, cal) in boards.items():
        if board_job:
            if cal == "file":
                cli = kelvin_cli(kelvin)
                if cli is None:
                    notes.append(f"{name}: not run (no kelvin CLI to calibrate with)")
                    continue
                cal = os.path.join(args.out_dir, "calibration.json")
                timing["calibration_s"] = calibrate(cli, uri, cal, cfg)
            v, h, s, summ = qsm.on_board(kelvin, uri, ck, cfg["samples"], calibration=cal)
            gens[name], grids[name] = generator_entry(scorer, v, h, s, thr, n, summ)
            heats[name], volts[name] = h, v
            gens[name]["uri"] = uri
        elif name == "board_ideal":
            v, h, s = qsm.emulated_board(ck, cfg["samples"], args.seed + 13)
            gens[name], grids[name] = generator_entry(scorer, v, h, s, thr, n)
            heats[name] = h
            gens[name]["uri"] = "host stand-in (kelvin.generate_quartic not available)"
            notes.append("board_ideal: host stand-in of the board job (same codes, substep, ADC)")
        else:
            notes.append(f"{name}: not run (kelvin.generate_quartic not available)")

    ind = gq.independent_pixel_samples(scorer.train01, cfg["samples"], args.seed)
    gens["independent_pixel"] = {"quality": scorer.score(ind)}
    grids["independent_pixel"] = ind
    gens["prototypes"] = {"quality": scorer.score(data.prototypes01)}
    grids["prototypes"] = data.prototypes01
    digital = grids["digital_float64"]
    agree = {name: agreement(name, grids[name], digital, heats[name], heats["digital_float64"])
             for name in gens if name.startswith("board")}
    flaws = {name: flaw_effect(volts, heats, name, thr) for name in volts
             if name != "board_ideal" and "board_ideal" in volts}

    cols = 8
    for name, imgs in grids.items():
        rows = max(1, min(8, math.ceil(len(imgs) / cols)))
        gq.write_png_grid(os.path.join(args.out_dir, f"{name}.png"), imgs, rows, cols,
                          (size, size))
    plot_loss(os.path.join(args.out_dir, "loss_curve.png"), tr.losses)

    every = max(1, len(tr.losses) // 50)
    result = {
        "example": "quartic_generative", "quick": args.quick, "seed": args.seed,
        "classes": list(CLASSES), "prototypes": int(len(data.prototypes01)),
        "scorer_test_accuracy": scorer.test_accuracy, "image_size": size, "visible": vis, "hidden": setup.hidden, "cells": n,
        "alpha_per_us": setup.alpha, "t_f_samples": setup.samples_tf,
        "substeps_per_t_f": setup.substeps_tf, "noise_code": ck["noise_code"],
        "kT_volts2": setup.d, "threshold_volts": thr,
        "standardization": {"mean": data.mean, "sd": data.sd, "x_off": data.x_off,
                            "x_on": data.x_on},
        "training": {"iterations": tr.iterations, "batch_paths": cfg["batch"],
                     "transitions_per_path": cfg["transitions"], "lr": cfg["lr"],
                     "train_quartic": not args.no_quartic_training,
                     "nll_validation_before": tr.validation_before,
                     "nll_validation_after": tr.validation_after,
                     "nll_validation_stderr": tr.validation_stderr,
                     "nll_decrease": tr.validation_before - tr.validation_after,
                     "loss_curve_every": every, "loss_curve": tr.losses[::every],
                     "quartic_range": [float(model.quartic.min()), float(model.quartic.max())],
                     "coupling_code_max": int(np.abs(np.asarray(ck["coupling_codes"])
                                                     - np.diag(np.diag(ck["coupling_codes"]))
                                                     ).max()),
                     "bias_code_max": int(np.abs(ck["bias_codes"]).max())},
        "paper_heat_kt_per_digit": PAPER_KT_PER_DIGIT, "paper_units": PAPER_UNITS,
        "board_job": "kelvin.generate_quartic" if board_job else "host stand-in",
        "generators": gens, "board_vs_digital": agree,
        "flaws_vs_ideal_board": flaws, "notes": notes,
        "timing": timing, "wall_s": time.time() - t_start, "out_dir": args.out_dir,
    }
    with open(os.path.join(args.out_dir, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
