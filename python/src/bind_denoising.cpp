// kelvin.denoise: a chain of denoising steps (DTM) on a p-bit board
// (runtime/pbit/dtm_chain.hpp, run_denoising_chain). Each step is a dict (or any object with
// these attributes): weights (int8 code per lattice edge, canonical order), biases (int8 code per
// node), beta_schedule (beta codes per sweep; default [256]), input_nodes and output_nodes
// (lattice nodes where x_t is clamped and x_{t-1} is read). Steps are ordered T .. 1.
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "kelvin/runtime/pbit/dtm_chain.hpp"

namespace kelvin::python {

namespace {

using common::Error;
using common::ErrorKind;

// steps[k][key] for a mapping, else steps[k].key; `required` false: None when absent.
py::object field(const py::handle& step, const char* key, std::size_t k, bool required) {
  if (py::isinstance<py::dict>(step)) {
    const auto d = py::reinterpret_borrow<py::dict>(step);
    if (d.contains(key))
      return d[key];
  } else if (py::hasattr(step, key)) {
    return step.attr(key);
  }
  if (required)
    throw Error(ErrorKind::kInvalidArgument, fmt::format("steps[{}] has no '{}'", k, key));
  return py::none();
}

// Integer codes in [lo, hi] (the C++ type's range; the runtime checks the board's own ranges).
template <typename T>
std::vector<T> integers(const py::handle& value, const std::string& name, double lo, double hi) {
  const Eigen::VectorXd v = vector_arg(value, name.c_str());
  std::vector<T> out(static_cast<std::size_t>(v.size()));
  for (Eigen::Index i = 0; i < v.size(); ++i) {
    const double x = v(i);
    if (!(x >= lo && x <= hi) || x != std::floor(x)) {
      throw Error(ErrorKind::kOutOfRange,
                  fmt::format("{}[{}] = {} is not an integer in [{}, {}]", name, i, x, lo, hi));
    }
    out[static_cast<std::size_t>(i)] = static_cast<T>(x);
  }
  return out;
}

runtime::DenoisingStep step_arg(const py::handle& step, std::size_t k) {
  const std::string at = fmt::format("steps[{}].", k);
  runtime::DenoisingStep s;
  s.program.weights =
      integers<std::int8_t>(field(step, "weights", k, true), at + "weights", -128, 127);
  s.program.biases =
      integers<std::int8_t>(field(step, "biases", k, true), at + "biases", -128, 127);
  const py::object schedule = field(step, "beta_schedule", k, false);
  if (!schedule.is_none())
    s.beta_schedule = integers<std::uint32_t>(schedule, at + "beta_schedule", 0, 4294967295.0);
  s.input_nodes =
      integers<std::uint32_t>(field(step, "input_nodes", k, true), at + "input_nodes", 0, 1e9);
  s.output_nodes =
      integers<std::uint32_t>(field(step, "output_nodes", k, true), at + "output_nodes", 0, 1e9);
  return s;
}

}  // namespace

void bind_denoising(py::module_& m) {
  const runtime::DenoisingOptions d;
  m.def(
      "denoise",
      [](PyPbitBoard& b, const py::sequence& steps, const py::object& x_T, std::uint64_t sweeps,
         std::uint64_t burn_in_sweeps, std::uint32_t chains, bool reset_state,
         std::uint64_t noise_seed, double timeout_s) {
        runtime::DenoisingOptions o;
        o.sweeps = sweeps;
        o.burn_in_sweeps = burn_in_sweeps;
        o.chains = chains;
        o.reset_state = reset_state;
        o.noise_seed = noise_seed;
        o.timeout = timeout_arg(timeout_s);
        o.validate();
        std::vector<runtime::DenoisingStep> list;
        for (std::size_t k = 0; k < steps.size(); ++k)
          list.push_back(step_arg(steps[k], k));
        std::vector<int> x0;
        if (!x_T.is_none())
          x0 = integers<int>(x_T, "x_T", -1, 1);  // the runtime refuses 0 by name
        runtime::DenoisingResult r = with_board(
            *b.handle, [&] { return runtime::run_denoising_chain(b.board, list, x0, o); });
        const auto c = static_cast<py::ssize_t>(r.states.size());
        const auto t = static_cast<py::ssize_t>(c ? r.states.front().size() : 0);
        const auto w = static_cast<py::ssize_t>(r.summary.width);
        py::array_t<std::int8_t> states({c, t, w});
        auto s = states.mutable_unchecked<3>();
        for (py::ssize_t i = 0; i < c; ++i)
          for (py::ssize_t k = 0; k < t; ++k)
            for (py::ssize_t j = 0; j < w; ++j)
              s(i, k, j) = static_cast<std::int8_t>(r.states[i][k][j]);
        const auto steps_run = static_cast<py::ssize_t>(c ? r.run_ids.front().size() : 0);
        py::array_t<std::uint64_t> run_ids({c, steps_run});
        auto ids = run_ids.mutable_unchecked<2>();
        for (py::ssize_t i = 0; i < c; ++i)
          for (py::ssize_t k = 0; k < steps_run; ++k)
            ids(i, k) = r.run_ids[i][k];
        return result_class("DenoiseResult")(
            py::arg("states") = states, py::arg("run_ids") = run_ids,
            py::arg("summary") = summary_object(r.summary, "DenoisingSummary"));
      },
      py::arg("board"), py::arg("steps"), py::arg("x_T") = py::none(), py::kw_only(),
      py::arg("sweeps") = d.sweeps, py::arg("burn_in_sweeps") = d.burn_in_sweeps,
      py::arg("chains") = d.chains, py::arg("reset_state") = d.reset_state,
      py::arg("noise_seed") = d.noise_seed,
      py::arg("timeout_s") = std::chrono::duration<double>(d.timeout).count(),
      "Runs a denoising chain (DTM) on a p-bit board: steps ordered T .. 1, each a dict or "
      "object with weights (int8 per lattice edge), biases (int8 per node), beta_schedule "
      "(beta codes per sweep, burn-in included; default [256]), input_nodes and output_nodes "
      "(lattice nodes where x_t is clamped and x_{t-1} read). x_T: +-1 per input node (None: "
      "each chain draws uniform noise from noise_seed + chain). Returns DenoiseResult(states: "
      "chains x (T + 1) x width int8, states[:, 0] = x_T and states[:, -1] the generated x_0; "
      "run_ids: chains x T; summary with the energy ledger).");
}

}  // namespace kelvin::python
