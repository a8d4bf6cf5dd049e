"""A denoising thermodynamic model (DTM) of binarized Fashion-MNIST, trained with the emulated
p-bit board in the loop and generating on the board (issue 17, item 2; docs/generative.md).

    PYTHONPATH=build/python /usr/bin/python3 python/examples/dtm_fashion.py --quick --out-dir out

Data: 28 x 28 images mean-pooled 2 x 2 to 14 x 14 and binarized at 0.5
(generative_quality.load_images / binarize), pixels as spins +-1.
Model: T denoising steps; step t is an EBM over (x_t, x_{t-1}, latents) on the 70 x 70 lattice
(layout: dtm_layout.py, forward process: dtm_model.py), trained with kelvin.BoltzmannTrainer
(dtm_train.py), then x_0 generated from uniform x_T with kelvin.denoise (dtm_generate.py).
Baselines in the same run: the independent-pixel Bernoulli model and the same DTM sampled
digitally in float64 (float weights; and, as a diagnostic, the board's own codes). Scores:
generative_quality.Scorer. Prints one JSON object; writes results.json and PNG grids to
--out-dir.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dtm_generate as gen  # noqa: E402
import dtm_train  # noqa: E402
import generative_quality as quality  # noqa: E402
import kelvin  # noqa: E402
from dtm_layout import LatticeMap, make_layout  # noqa: E402
from dtm_model import ForwardProcess, beta_schedule  # noqa: E402

SIZE = 14
URI = "sim:pbit?rows=70&cols=70&degree=12&seed=1"
# Forward couplings as board codes at beta (index 0 = step 1, nearest the data).
CODES = {2: [2, 1], 4: [4, 3, 2, 1]}
PRESETS = {
    "quick": {"steps": 2, "train_steps": 300, "batch": 2, "chains": 2, "burn_in": 10,
              "sweeps": 20, "sample_every": 2, "samples": 128, "gen_sweeps": 30},
    "full": {"steps": 4, "train_steps": 1500, "batch": 2, "chains": 2, "burn_in": 20,
             "sweeps": 40, "sample_every": 2, "samples": 512, "gen_sweeps": 60},
}


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="the CI path (under 90 s on 2 cores)")
    p.add_argument("--out-dir", default="dtm_fashion_out")
    p.add_argument("--uri", default=URI)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--beta", type=float, default=0.25,
                   help="board inverse temperature: weight resolution beta, cap 6 beta")
    p.add_argument("--learning-rate", type=float, default=1.0)
    p.add_argument("--init-scale", type=float, default=0.3)
    p.add_argument("--forward-codes", default=None,
                   help="forward couplings as board codes, step 1 first (default: 2,1 or 4,3,2,1)")
    p.add_argument("--ramp-start", type=float, default=0.6,
                   help="generation's beta ramp starts at this fraction of beta")
    for key in PRESETS["full"]:
        p.add_argument("--" + key.replace("_", "-"), type=int, default=None)
    a = p.parse_args(argv)
    cfg = dict(PRESETS["quick" if a.quick else "full"])
    for key in PRESETS["full"]:
        if getattr(a, key) is not None:
            cfg[key] = getattr(a, key)
    if a.forward_codes:
        cfg["codes"] = [int(c) for c in a.forward_codes.split(",")]
        cfg["steps"] = len(cfg["codes"])
    elif cfg["steps"] in CODES:
        cfg["codes"] = CODES[cfg["steps"]]
    else:
        p.error(f"--steps must be one of {sorted(CODES)} unless --forward-codes is given")
    cfg.update(learning_rate=a.learning_rate, init_scale=a.init_scale, momentum=0.5,
               weight_decay=0.0, decay_steps=max(1, cfg["train_steps"] // 2))
    return a, cfg


def scored(scorer, x01):
    s = scorer.score(x01)
    return {k: s[k] for k in ("samples", "score", "score_stderr", "confidence",
                              "confidence_stderr", "diversity", "diversity_stderr",
                              "class_histogram", "marginal_error", "marginal_error_stderr",
                              "marginal_error_floor", "correlation_error",
                              "correlation_error_stderr", "correlation_error_floor")}


def main(argv=None) -> dict:
    a, cfg = parse(argv)
    os.makedirs(a.out_dir, exist_ok=True)
    wall = {}
    t0 = time.monotonic()
    x_train, _ = quality.load_images("train", SIZE)
    train01 = quality.binarize(x_train)
    data_pm = (2 * train01.astype(np.int8) - 1)
    scorer = quality.Scorer.fit(size=SIZE, seed=0)
    wall["data_and_scorer_s"] = time.monotonic() - t0

    layout = make_layout(SIZE)
    lmap = LatticeMap(layout)
    forward = ForwardProcess(cfg["codes"], a.beta)
    board = kelvin.open(a.uri)

    t1 = time.monotonic()
    models = [dtm_train.train_step(board, layout, lmap, forward, t, data_pm, cfg, a.seed + t)
              for t in range(1, forward.steps + 1)]
    wall["train_s"] = time.monotonic() - t1

    n, total = cfg["samples"], cfg["gen_sweeps"]
    codes, betas = beta_schedule(a.beta, total, start=a.ramp_start)
    (board_pm, summary), wall["board_generate_s"] = gen.timed(
        gen.generate_on_board, board, layout, lmap, models, codes, n, total, 0, a.seed)
    float_pm, wall["digital_generate_s"] = gen.timed(
        gen.generate_digitally, layout, models, "float", betas, n, total, a.seed + 100)
    codes_pm, wall["digital_codes_generate_s"] = gen.timed(
        gen.generate_digitally, layout, models, "codes", betas, n, total, a.seed + 200)
    indep01 = quality.independent_pixel_samples(train01, n, seed=a.seed)
    board01, float01, codes01 = gen.to01(board_pm), gen.to01(float_pm), gen.to01(codes_pm)

    t2 = time.monotonic()
    scores = {"dtm_board": scored(scorer, board01), "dtm_digital_float": scored(scorer, float01),
              "dtm_digital_codes": scored(scorer, codes01),
              "independent_pixel": scored(scorer, indep01),
              "test_images": scored(scorer, scorer.reference01[:n])}
    b, i = scores["dtm_board"], scores["independent_pixel"]
    beat_z = (b["score"] - i["score"]) / math.hypot(b["score_stderr"], i["score_stderr"])
    wall["scoring_s"] = time.monotonic() - t2

    side = int(math.sqrt(min(n, 64)))
    pngs = {}
    for name, x in (("dtm_board", board01), ("dtm_digital_float", float01),
                    ("independent_pixel", indep01), ("test_images", scorer.reference01)):
        path = os.path.join(a.out_dir, f"dtm_{name}.png")
        quality.write_png_grid(path, x, side, side, (SIZE, SIZE), scale=4)
        pngs[name] = path
    energy = summary.energy.to_dict()
    result = {
        "example": "dtm_fashion", "quick": a.quick, "uri": a.uri, "seed": a.seed,
        "image": {"size": SIZE, "pooling": "2x2 mean (area) 28->14", "threshold": 0.5},
        "layout": {"footprint": list(layout.footprint), "copies": len(layout.offsets()),
                   "nodes_per_copy": layout.nodes, "latents_per_copy": 2 * layout.pixels,
                   "edges_per_copy": int(len(layout.edges)),
                   "trainable_edges_per_copy": int(layout.trainable.sum())},
        "beta": a.beta, "forward": forward.describe(),
        "training": {**{k: cfg[k] for k in ("train_steps", "batch", "chains", "burn_in",
                                             "sweeps", "sample_every", "learning_rate",
                                             "init_scale", "momentum", "decay_steps")},
                     "rounding": "stochastic", "schedule": "inverse-time",
                     "steps": [dtm_train.step_report(m) for m in models]},
        "generation": {"samples": n, "sweeps_per_step": total,
                       "beta_schedule": f"linear {a.ramp_start} beta -> beta over the first half, then beta",
                       "chains": summary.chains, "device_time_s": summary.device_time_s,
                       "energy": energy,
                       "energy_per_sample_j": energy["total_j"] / n},
        "scores": scores,
        "dtm_beats_independent": {"score_difference": b["score"] - i["score"], "z": beat_z,
                                  "beats": bool(beat_z > 3)},
        "board_vs_digital_float": gen.agreement(scorer, board01, float01),
        "board_vs_digital_codes": gen.agreement(scorer, board01, codes01),
        "pngs": pngs, "wall_s": {**wall, "total_s": time.monotonic() - t0},
    }
    with open(os.path.join(a.out_dir, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
