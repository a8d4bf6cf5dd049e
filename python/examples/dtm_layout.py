"""Where a DTM step's nodes sit on the p-bit board's lattice (dtm_fashion.py's layout).

The lattice (docs/boards.md, kelvin/firmware_protocol/pbit_lattice.hpp): rows x cols nodes,
node = row * cols + col, an edge for every jump (dx, dy) in the four rotations of the
generators (0, 1), (4, 1) [degree 8], + (10, 9) [12], + (11, 14) [16]; canonical edge order:
for each node u in row-major order, for each forward jump (dy > 0, or dy == 0 and dx > 0) in
generator-then-rotation order, the edge (u, u + jump) if inside the grid. lattice_edges()
reproduces that order so that a Python program's weights line up with the board's edges.

One copy of a step's model for an S x S image is a 2S x 2S footprint of 2 x 2 cells, one cell
per pixel (r, c), at footprint rows 2r, 2r + 1 and columns 2c, 2c + 1:

    (2r, 2c)     output x_{t-1}[r, c]  (role "visible")     colour 0
    (2r, 2c+1)   input  x_t[r, c]      (role "input")       colour 1, joined to the output by
                                                             the jump (0, 1): the fixed edge
    (2r+1, 2c)   latent                (role "hidden")      colour 1
    (2r+1, 2c+1) latent                (role "hidden")      colour 0

Trainable edges: every lattice edge inside the footprint between two non-input nodes. The
lattice is bipartite, so outputs (colour 0) couple to the colour-1 latents, and those to the
colour-0 latents: a deep-ish latent network over the whole image through the long jumps.
Input nodes have only their fixed edge. Model node order: outputs 0..D-1 (pixel order), inputs
D..2D-1, latents after, so nodes_with("visible") and nodes_with("input") are in pixel order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GENERATORS = ((0, 1), (4, 1), (10, 9), (11, 14))
COUNT = {8: 2, 12: 3, 16: 4}


def forward_jumps(degree: int) -> list[tuple[int, int]]:
    """The forward jumps (dx, dy) of a lattice degree, in canonical order."""
    if degree not in COUNT:
        raise ValueError(f"lattice degree must be 8, 12 or 16, got {degree}")
    jumps = []
    for dx, dy in GENERATORS[:COUNT[degree]]:
        for _ in range(4):
            if dy > 0 or (dy == 0 and dx > 0):
                jumps.append((dx, dy))
            dx, dy = -dy, dx
    return jumps


def lattice_edges(rows: int, cols: int, degree: int) -> np.ndarray:
    """Every lattice edge (u, v), u < v, in the board's canonical order (E x 2 int64)."""
    out = []
    for row in range(rows):
        for col in range(cols):
            for dx, dy in forward_jumps(degree):
                r2, c2 = row + dy, col + dx
                if 0 <= r2 < rows and 0 <= c2 < cols:
                    out.append((row * cols + col, r2 * cols + c2))
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


@dataclass
class Layout:
    """One copy of a DTM step's model on the lattice, and how copies tile the lattice."""
    side: int                 # image side S (D = S * S pixels)
    rows: int                 # lattice rows, cols, degree
    cols: int
    degree: int
    roles: list[str]          # per model node: "visible", "input", "hidden"
    local: np.ndarray         # per model node: (row, col) inside the footprint
    edges: np.ndarray         # model edges (i, j), E x 2
    trainable: np.ndarray     # per model edge
    fixed: np.ndarray         # per pixel: index of its input-output edge in `edges`
    colour: np.ndarray        # per model node: lattice colour (0 or 1)

    @property
    def pixels(self) -> int:
        return self.side * self.side

    @property
    def nodes(self) -> int:
        return len(self.roles)

    @property
    def footprint(self) -> tuple[int, int]:
        return 2 * self.side, 2 * self.side

    def outputs(self) -> np.ndarray:
        return np.arange(self.pixels)

    def inputs(self) -> np.ndarray:
        return np.arange(self.pixels, 2 * self.pixels)

    def offsets(self) -> list[tuple[int, int]]:
        """Origins (row, col) of the copies that tile the lattice, row-major."""
        fr, fc = self.footprint
        return [(r, c) for r in range(0, self.rows - fr + 1, fr)
                for c in range(0, self.cols - fc + 1, fc)]

    def placement(self, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
        """Lattice node of every model node for the copy at `origin`."""
        return (self.local[:, 0] + origin[0]) * self.cols + self.local[:, 1] + origin[1]


def make_layout(side: int = 14, rows: int = 70, cols: int = 70, degree: int = 12) -> Layout:
    """The 2 x 2-cell layout above for an S x S image (raises ValueError if it does not fit)."""
    if 2 * side > rows or 2 * side > cols:
        raise ValueError(f"a {side} x {side} image needs a {2 * side} x {2 * side} footprint; "
                         f"the lattice is {rows} x {cols}")
    d = side * side
    pix = [(r, c) for r in range(side) for c in range(side)]
    local = ([(2 * r, 2 * c) for r, c in pix] + [(2 * r, 2 * c + 1) for r, c in pix]
             + [(2 * r + 1, 2 * c) for r, c in pix] + [(2 * r + 1, 2 * c + 1) for r, c in pix])
    roles = ["visible"] * d + ["input"] * d + ["hidden"] * (2 * d)
    local = np.asarray(local, dtype=np.int64)
    fr = 2 * side
    index = {(int(r), int(c)): k for k, (r, c) in enumerate(local)}
    edges, trainable = [], []
    for k in range(d):  # the fixed input-output edges first
        edges.append((k, d + k))
        trainable.append(False)
    for (r, c), u in sorted(index.items()):
        for dx, dy in forward_jumps(degree):
            v = index.get((r + dy, c + dx))
            if v is None or roles[u] == "input" or roles[v] == "input":
                continue
            if 0 <= r + dy < fr and 0 <= c + dx < fr:
                edges.append((min(u, v), max(u, v)))
                trainable.append(True)
    colour = (local[:, 0] + local[:, 1]) % 2
    return Layout(side, rows, cols, degree, roles, local, np.asarray(edges, dtype=np.int64),
                  np.asarray(trainable), np.arange(d), colour)


class LatticeMap:
    """Model edges -> canonical lattice edge indices, for full-lattice programs."""

    def __init__(self, layout: Layout):
        self.layout = layout
        all_edges = lattice_edges(layout.rows, layout.cols, layout.degree)
        self.edge_count = len(all_edges)
        self.node_count = layout.rows * layout.cols
        self._index = {(int(u), int(v)): k for k, (u, v) in enumerate(all_edges)}

    def edge_indices(self, origin: tuple[int, int]) -> np.ndarray:
        """Canonical index of every model edge for the copy at `origin` (KeyError: no edge)."""
        p = self.layout.placement(origin)
        u, v = p[self.layout.edges[:, 0]], p[self.layout.edges[:, 1]]
        return np.asarray([self._index[(min(a, b), max(a, b))] for a, b in zip(u, v)])

    def program(self, weight_codes: np.ndarray, bias_codes: np.ndarray,
                origins: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """Full-lattice (weights, biases) int8 with the same model at every origin; the rest 0."""
        w = np.zeros(self.edge_count, dtype=np.int8)
        b = np.zeros(self.node_count, dtype=np.int8)
        for o in origins:
            w[self.edge_indices(o)] = weight_codes
            b[self.layout.placement(o)] = bias_codes
        return w, b

    def nodes(self, model_nodes: np.ndarray, origins: list[tuple[int, int]]) -> np.ndarray:
        """Lattice nodes of `model_nodes` for every copy, copy-major (concatenated)."""
        return np.concatenate([self.layout.placement(o)[model_nodes] for o in origins])
