// Arguments shared by the Boltzmann learner's bindings (bind_boltzmann.cpp) and the exact
// enumeration's (bind_exact_ising.cpp): a model's edges and per-item values from NumPy, with
// kelvin.InvalidArgumentError naming what is wrong.
//
// Thread contract: call with the GIL held.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <pybind11/numpy.h>

#include "bindings.hpp"

namespace kelvin::python {

// (E x 2) integer endpoints, each in [0, nodes); None or an empty sequence: no edges.
std::vector<std::pair<std::uint32_t, std::uint32_t>> edges_arg(const py::object& edges,
                                                               std::uint32_t nodes);
// A vector of exactly `size` values ("weights has 3 entries for 10 edges"); None: empty (the
// default).
std::vector<double> values_arg(const py::object& value, std::size_t size, const char* name,
                               const char* per);
// A float64 NumPy copy.
py::array_t<double> array_of(const std::vector<double>& v);

}  // namespace kelvin::python
