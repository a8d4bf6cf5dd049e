// kelvin.exact_ising, kelvin.exact_marginal and kelvin.kl_divergence
// (runtime/pbit/exact_ising.hpp): exact enumeration of small Ising models (up to 24 nodes), the
// reference Boltzmann learning on the board is checked against. The model is given as
// kelvin.BoltzmannTrainer takes it: nodes, edges (E x 2), weights, biases, beta.
#include <span>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "boltzmann_args.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/runtime/pbit/exact_ising.hpp"

namespace kelvin::python {

namespace {

using common::Error;
using common::ErrorKind;

runtime::SparseIsingModel ising_arg(std::uint32_t nodes, const py::object& edges,
                                    const py::object& weights, const py::object& bias,
                                    double beta) {
  runtime::SparseIsingModel m;
  m.nodes = nodes;
  const auto pairs = edges_arg(edges, nodes);
  const std::vector<double> w = values_arg(weights, pairs.size(), "weights", "edges");
  if (w.empty() && !pairs.empty())
    throw Error(ErrorKind::kInvalidArgument, "weights is None: give one weight per edge");
  for (std::size_t k = 0; k < pairs.size(); ++k)
    m.edges.push_back({pairs[k].first, pairs[k].second, w[k]});
  m.bias = values_arg(bias, nodes, "bias", "nodes");
  m.beta = beta;
  return m;
}

}  // namespace

void bind_exact_ising(py::module_& m) {
  m.def(
      "exact_ising",
      [](std::uint32_t nodes, const py::object& edges, const py::object& weights,
         const py::object& bias, double beta) {
        const runtime::ExactIsingMoments e =
            runtime::exact_ising(ising_arg(nodes, edges, weights, bias, beta));
        return py::make_tuple(array_of(e.mean), array_of(e.correlation), e.log_z);
      },
      py::arg("nodes"), py::arg("edges"), py::arg("weights"), py::arg("bias") = py::none(),
      py::arg("beta") = 1.0,
      "Exact (means, edge correlations, log Z) of P(s) ~ exp(beta (sum_e w_e s_i s_j + sum_i "
      "b_i s_i)) by enumeration (at most 24 nodes).");
  m.def(
      "exact_marginal",
      [](std::uint32_t nodes, const py::object& edges, const py::object& weights,
         const py::object& bias, double beta, const std::vector<std::uint32_t>& subset) {
        return array_of(
            runtime::exact_marginal(ising_arg(nodes, edges, weights, bias, beta), subset));
      },
      py::arg("nodes"), py::arg("edges"), py::arg("weights"), py::arg("bias"), py::arg("beta"),
      py::arg("subset"),
      "The exact marginal law of `subset` (2^k probabilities; bit k of the index is subset[k], "
      "set for +1).");
  m.def(
      "kl_divergence",
      [](const py::object& p, const py::object& q) {
        const Eigen::VectorXd pv = vector_arg(p, "p");
        const Eigen::VectorXd qv = vector_arg(q, "q");
        return runtime::kl_divergence(std::span<const double>(pv.data(), pv.size()),
                                      std::span<const double>(qv.data(), qv.size()));
      },
      py::arg("p"), py::arg("q"), "KL(p || q) in nats between two distributions of equal size.");
}

}  // namespace kelvin::python
