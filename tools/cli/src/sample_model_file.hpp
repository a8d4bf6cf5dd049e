// The model file of `kelvin sample`: JSON in the board's integer coupling units,
// {"nodes": n, "edges": [[i, j, J], ...], "bias": [b_0, ...]} ("bias" optional, default zeros);
// model node i is lattice node i (row-major).
//
// Thread contract: a pure function.
#pragma once

#include <string>

#include "kelvin/runtime/pbit/ising_model.hpp"

namespace kelvin::tools::cli {

// Throws std::runtime_error naming the file and what is wrong with it.
runtime::IsingModel read_model(const std::string& path);

}  // namespace kelvin::tools::cli
