// kelvin.sample: an Ising model on a p-bit board (runtime/pbit/ising_sampling.hpp), the model
// given as a symmetric coupling matrix J (NumPy, or any SciPy sparse matrix) and biases h, in
// the board's integer coupling units with model node i = lattice node i: the same model
// `kelvin sample --model FILE` reads (P(s) ~ exp(beta (sum_{i<j} J_ij s_i s_j + sum_i h_i s_i))).
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "kelvin/runtime/pbit/ising_sampling.hpp"

namespace kelvin::python {

namespace {

using common::Error;
using common::ErrorKind;

int integer_coupling(double v, const std::string& what) {
  if (!std::isfinite(v) || v != std::round(v) || std::abs(v) > 1e6) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} = {} is not an integer: the model is in the board's integer "
                            "coupling units (as `kelvin sample --model` reads it)",
                            what, v));
  }
  return static_cast<int>(v);
}

// The (i, j, J_ij), i < j, of a symmetric J given as triplets (duplicates summed, as SciPy does).
runtime::IsingModel model_from_triplets(std::uint32_t n,
                                        const std::vector<std::tuple<long, long, double>>& t,
                                        const py::object& h) {
  std::map<std::pair<std::uint32_t, std::uint32_t>, double> entries;
  for (const auto& [i, j, v] : t) {
    if (i < 0 || j < 0 || i >= n || j >= n)
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("J has an entry ({}, {}) outside {}x{}", i, j, n, n));
    entries[{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j)}] += v;
  }
  runtime::IsingModel model;
  model.nodes = n;
  for (const auto& [ij, v] : entries) {
    const auto [i, j] = ij;
    if (v == 0.0)
      continue;
    if (i == j) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("J[{}, {}] = {} is on the diagonal: a spin does not couple to "
                              "itself (biases go in h)",
                              i, i, v));
    }
    const auto other = entries.find({j, i});
    const double vt = other == entries.end() ? 0.0 : other->second;
    if (vt != v) {
      throw Error(
          ErrorKind::kInvalidArgument,
          fmt::format("J is not symmetric: J[{}, {}] = {} but J[{}, {}] = {}", i, j, v, j, i, vt));
    }
    if (i < j)
      model.edges.emplace_back(i, j, integer_coupling(v, fmt::format("J[{}, {}]", i, j)));
  }
  if (!h.is_none()) {
    const Eigen::VectorXd hv = vector_arg(h, "h");
    if (hv.size() != n) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("h has {} entries for a J of {} nodes", hv.size(), n));
    }
    for (Eigen::Index i = 0; i < hv.size(); ++i)
      model.bias.push_back(integer_coupling(hv(i), fmt::format("h[{}]", i)));
  }
  return model;
}

runtime::IsingModel model_arg(const py::object& J, const py::object& h) {
  std::vector<std::tuple<long, long, double>> triplets;
  std::uint32_t n = 0;
  if (py::hasattr(J, "tocoo")) {  // SciPy sparse, any format
    const py::object coo = J.attr("tocoo")();
    const auto shape = coo.attr("shape").cast<std::pair<long, long>>();
    if (shape.first != shape.second)
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("J must be square; got {}x{}", shape.first, shape.second));
    n = static_cast<std::uint32_t>(shape.first);
    const Eigen::VectorXd data = coo.attr("nnz").cast<long>() > 0
                                     ? vector_arg(coo.attr("data"), "J.data")
                                     : Eigen::VectorXd();
    const auto rows = coo.attr("row").cast<std::vector<long>>();
    const auto cols = coo.attr("col").cast<std::vector<long>>();
    for (std::size_t k = 0; k < rows.size(); ++k)
      triplets.emplace_back(rows[k], cols[k], data(static_cast<Eigen::Index>(k)));
  } else {
    const Eigen::MatrixXd dense = matrix_arg(J, "J");
    if (dense.rows() != dense.cols())
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("J must be square; got {}x{}", dense.rows(), dense.cols()));
    n = static_cast<std::uint32_t>(dense.rows());
    for (Eigen::Index j = 0; j < dense.cols(); ++j)
      for (Eigen::Index i = 0; i < dense.rows(); ++i)
        if (dense(i, j) != 0.0 || !std::isfinite(dense(i, j)))
          triplets.emplace_back(i, j, dense(i, j));
  }
  if (n == 0)
    throw Error(ErrorKind::kInvalidArgument, "J is empty: the model needs at least one node");
  return model_from_triplets(n, triplets, h);
}

}  // namespace

void bind_sampling(py::module_& m) {
  const runtime::IsingSamplingOptions d;
  m.def(
      "sample",
      [](PyPbitBoard& b, const py::object& J, const py::object& h, std::uint64_t sweeps,
         std::uint64_t samples, std::uint64_t burn_in_sweeps, std::uint32_t chains, double beta,
         std::vector<double> beta_schedule, const std::string& error_bars, std::uint32_t batches,
         std::uint64_t max_record_bytes, double timeout_s) {
        using runtime::ErrorBars;
        runtime::IsingSamplingOptions o;
        o.sweeps = sweeps;
        o.samples = samples;
        o.burn_in_sweeps = burn_in_sweeps;
        o.chains = chains;
        o.beta = beta;
        o.beta_schedule = std::move(beta_schedule);
        o.error_bars = enum_arg(
            error_bars,
            {ErrorBars::kAuto, ErrorBars::kBetweenChains, ErrorBars::kBatchMeans, ErrorBars::kNone},
            "error_bars");
        o.batches = batches;
        o.max_record_bytes = max_record_bytes;
        o.timeout = timeout_arg(timeout_s);
        o.validate(b.board.pbit());
        const runtime::IsingModel model = model_arg(J, h);
        runtime::IsingSamplingResult r =
            with_board(*b.handle, [&] { return runtime::sample_ising(b.board, model, o); });
        const auto edges = r.edge_correlations.size();
        py::array_t<std::int64_t> edge_index({static_cast<py::ssize_t>(edges), py::ssize_t{2}});
        std::vector<double> correlations;
        auto e = edge_index.mutable_unchecked<2>();
        for (std::size_t k = 0; k < edges; ++k) {
          const auto& [i, j, c] = r.edge_correlations[k];
          e(static_cast<py::ssize_t>(k), 0) = i;
          e(static_cast<py::ssize_t>(k), 1) = j;
          correlations.push_back(c);
        }
        const auto array = [](std::vector<double>& v) {
          return py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data());
        };
        py::object summary = summary_object(r.summary, "IsingSamplingSummary");
        return result_class("SampleResult")(
            py::arg("mean") = array(r.mean), py::arg("mean_stderr") = array(r.mean_stderr),
            py::arg("mean_split_rhat") = array(r.mean_split_rhat),
            py::arg("mean_ess") = array(r.mean_ess), py::arg("edges") = edge_index,
            py::arg("edge_correlations") = array(correlations),
            py::arg("edge_correlation_stderr") = array(r.edge_correlation_stderr),
            py::arg("edge_split_rhat") = array(r.edge_split_rhat),
            py::arg("edge_ess") = array(r.edge_ess), py::arg("summary") = summary);
      },
      py::arg("board"), py::arg("J"), py::arg("h") = py::none(), py::kw_only(),
      py::arg("sweeps") = d.sweeps, py::arg("samples") = d.samples,
      py::arg("burn_in_sweeps") = d.burn_in_sweeps, py::arg("chains") = d.chains,
      py::arg("beta") = d.beta, py::arg("beta_schedule") = d.beta_schedule,
      py::arg("error_bars") = std::string(to_string(d.error_bars)), py::arg("batches") = d.batches,
      py::arg("max_record_bytes") = d.max_record_bytes,
      py::arg("timeout_s") = std::chrono::duration<double>(d.timeout).count(),
      "Samples the Ising model (J symmetric, NumPy or SciPy sparse, integer coupling units, "
      "node i = lattice node i; h the biases) on a p-bit board. Returns SampleResult(mean, "
      "mean_stderr, mean_split_rhat, mean_ess, edges, edge_correlations, "
      "edge_correlation_stderr, edge_split_rhat, edge_ess, summary); NaN where absent.");
}

}  // namespace kelvin::python
