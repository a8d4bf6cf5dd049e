// Copies of a model placed side by side on a p-bit lattice by translation: what the Boltzmann
// trainer (its clamped and free copies) and partitioned sampling (its chains) run in one board
// run. A translation keeps lattice edges (the lattice's jumps are the same everywhere), so a copy
// is the same model wherever it lands, as long as it stays inside the lattice.
//
// Thread contract: a pure function.
#pragma once

#include <cstdint>
#include <vector>

namespace kelvin::runtime::detail {

// Offsets (in lattice nodes, row-major) of translated copies of `placement` (lattice nodes of
// copy 0) that do not overlap and stay inside a rows x cols lattice: copy 0 (offset 0) first,
// then greedily in raster order of the translation.
std::vector<std::int64_t> translated_copy_offsets(const std::vector<std::uint32_t>& placement,
                                                  std::uint32_t rows, std::uint32_t cols);

}  // namespace kelvin::runtime::detail
