// kelvin.BoltzmannTrainer (runtime/pbit/boltzmann_learning.hpp): Boltzmann learning with the
// p-bit board in the loop, the model given as NumPy arrays (nodes, roles, edges, weights, biases
// in the board's coupling units), examples as NumPy arrays of +-1 (or 0/1); and the exact
// enumeration it is checked against (runtime/pbit/exact_ising.hpp): kelvin.exact_ising,
// kelvin.exact_marginal, kelvin.kl_divergence.
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "kelvin/runtime/pbit/boltzmann_learning.hpp"
#include "kelvin/runtime/pbit/exact_ising.hpp"

namespace kelvin::python {

namespace {

using common::Error;
using common::ErrorKind;
using runtime::BoltzmannExample;
using runtime::BoltzmannModel;
using runtime::BoltzmannOptions;
using runtime::BoltzmannTrainer;
using runtime::NodeRole;

struct PyBoltzmannTrainer {
  py::object board_object;  // keeps the board (and so `board`) alive
  PyPbitBoard* board = nullptr;
  std::unique_ptr<BoltzmannTrainer> trainer;
};

py::array_t<double> array_of(const std::vector<double>& v) {
  return py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data());
}

// (E x 2) integer endpoints; None or an empty sequence: no edges.
std::vector<std::pair<std::uint32_t, std::uint32_t>> edges_arg(const py::object& edges,
                                                               std::uint32_t nodes) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  if (edges.is_none() || py::len(edges) == 0)
    return out;
  const Eigen::MatrixXd e = matrix_arg(edges, "edges");
  if (e.cols() != 2) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("edges must be an E x 2 array of node pairs; got {} x {}", e.rows(), e.cols()));
  }
  for (Eigen::Index k = 0; k < e.rows(); ++k) {
    for (Eigen::Index c = 0; c < 2; ++c) {
      const double v = e(k, c);
      if (!(v >= 0.0 && v < nodes && v == std::floor(v))) {
        throw Error(ErrorKind::kInvalidArgument,
                    fmt::format("edges[{}] = ({}, {}) names a node outside [0, {})", k, e(k, 0),
                                e(k, 1), nodes));
      }
    }
    out.emplace_back(static_cast<std::uint32_t>(e(k, 0)), static_cast<std::uint32_t>(e(k, 1)));
  }
  return out;
}

// A per-item vector of `size` values (None: empty, i.e. the default).
std::vector<double> values_arg(const py::object& value, std::size_t size, const char* name,
                               const char* per) {
  if (value.is_none())
    return {};
  const Eigen::VectorXd v = vector_arg(value, name);
  if (static_cast<std::size_t>(v.size()) != size) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} has {} entries for {} {}", name, v.size(), size, per));
  }
  return {v.data(), v.data() + v.size()};
}

std::vector<bool> flags_arg(const py::object& value, std::size_t size, const char* name,
                            const char* per) {
  std::vector<bool> out;
  for (const double v : values_arg(value, size, name, per))
    out.push_back(v != 0.0);
  return out;
}

BoltzmannModel model_arg(std::uint32_t nodes, const std::vector<std::string>& roles,
                         const py::object& edges, const py::object& weights, const py::object& bias,
                         const py::object& placement, const py::object& trainable_edges,
                         const py::object& bias_trainable) {
  BoltzmannModel m;
  m.nodes = nodes;
  if (roles.size() != nodes) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("roles has {} entries for {} nodes", roles.size(), nodes));
  }
  for (std::size_t i = 0; i < roles.size(); ++i) {
    m.roles.push_back(enum_arg(roles[i], {NodeRole::kVisible, NodeRole::kHidden, NodeRole::kInput},
                               fmt::format("roles[{}]", i).c_str()));
  }
  const auto pairs = edges_arg(edges, nodes);
  const std::vector<double> w = values_arg(weights, pairs.size(), "weights", "edges");
  const std::vector<bool> trainable =
      flags_arg(trainable_edges, pairs.size(), "trainable_edges", "edges");
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    m.edges.push_back({pairs[k].first, pairs[k].second, w.empty() ? 0.0 : w[k],
                       trainable.empty() ? true : static_cast<bool>(trainable[k])});
  }
  m.bias = values_arg(bias, nodes, "bias", "nodes");
  m.bias_trainable = flags_arg(bias_trainable, nodes, "bias_trainable", "nodes");
  for (const double p : values_arg(placement, nodes, "placement", "nodes")) {
    if (!(p >= 0.0 && p == std::floor(p) && p < 4294967296.0))
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("placement has {}, not a lattice node index", p));
    m.placement.push_back(static_cast<std::uint32_t>(p));
  }
  m.validate();
  return m;
}

// Rows of +-1 (or 0/1) spins, `width` per row: one example's visible or input values each.
std::vector<std::vector<int>> spins_arg(const py::object& value, std::size_t width,
                                        const char* name) {
  const Eigen::MatrixXd a = matrix_arg(value, name);
  if (static_cast<std::size_t>(a.cols()) != width) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("{} has {} columns; the model has {} such nodes", name, a.cols(), width));
  }
  const bool zero_one = (a.array() == 0.0).any();
  if (zero_one && (a.array() == -1.0).any()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} mixes 0 and -1: give +-1 spins or 0/1 bits", name));
  }
  std::vector<std::vector<int>> rows(static_cast<std::size_t>(a.rows()));
  for (Eigen::Index r = 0; r < a.rows(); ++r) {
    for (Eigen::Index c = 0; c < a.cols(); ++c) {
      const double v = a(r, c);
      if (v != 1.0 && v != -1.0 && v != 0.0) {
        throw Error(
            ErrorKind::kInvalidArgument,
            fmt::format("{}[{}, {}] = {} is not a spin (+-1) or a bit (0/1)", name, r, c, v));
      }
      rows[static_cast<std::size_t>(r)].push_back(v > 0.0 ? 1 : -1);
    }
  }
  return rows;
}

std::vector<BoltzmannExample> examples_arg(const BoltzmannModel& m, const py::object& visible,
                                           const py::object& inputs) {
  const std::size_t inputs_per = m.nodes_with(NodeRole::kInput).size();
  const auto v = spins_arg(visible, m.nodes_with(NodeRole::kVisible).size(), "visible");
  std::vector<BoltzmannExample> out(v.size());
  for (std::size_t k = 0; k < v.size(); ++k)
    out[k].visible = v[k];
  if (inputs_per == 0) {
    if (!inputs.is_none())
      throw Error(ErrorKind::kInvalidArgument, "inputs given, but the model has no input nodes");
    return out;
  }
  if (inputs.is_none()) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("the model has {} input nodes: give inputs (one row per example)", inputs_per));
  }
  const auto in = spins_arg(inputs, inputs_per, "inputs");
  if (in.size() != v.size()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("inputs has {} rows for {} examples", in.size(), v.size()));
  }
  for (std::size_t k = 0; k < v.size(); ++k)
    out[k].input = in[k];
  return out;
}

py::object step_result(const runtime::BoltzmannStepResult& r) {
  return result_class("BoltzmannStepResult")(
      py::arg("clamped_mean") = array_of(r.clamped.mean),
      py::arg("clamped_mean_stderr") = array_of(r.clamped.mean_stderr),
      py::arg("clamped_correlation") = array_of(r.clamped.correlation),
      py::arg("clamped_correlation_stderr") = array_of(r.clamped.correlation_stderr),
      py::arg("free_mean") = array_of(r.free.mean),
      py::arg("free_mean_stderr") = array_of(r.free.mean_stderr),
      py::arg("free_correlation") = array_of(r.free.correlation),
      py::arg("free_correlation_stderr") = array_of(r.free.correlation_stderr),
      py::arg("clamped_dof") = r.clamped.dof, py::arg("free_dof") = r.free.dof,
      py::arg("samples_per_copy") = r.free.samples,
      py::arg("summary") = summary_object(r.summary, "BoltzmannStepSummary"));
}

py::array_t<std::int8_t> spins_array(const std::vector<std::vector<int>>& rows, std::size_t width) {
  py::array_t<std::int8_t> out(
      {static_cast<py::ssize_t>(rows.size()), static_cast<py::ssize_t>(width)});
  auto a = out.mutable_unchecked<2>();
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < width; ++c)
      a(static_cast<py::ssize_t>(r), static_cast<py::ssize_t>(c)) =
          static_cast<std::int8_t>(rows[r][c]);
  return out;
}

runtime::SparseIsingModel ising_arg(std::uint32_t nodes, const py::object& edges,
                                    const py::object& weights, const py::object& bias,
                                    double beta) {
  runtime::SparseIsingModel m;
  m.nodes = nodes;
  const auto pairs = edges_arg(edges, nodes);
  const std::vector<double> w = values_arg(weights, pairs.size(), "weights", "edges");
  if (w.empty() && !pairs.empty())
    throw Error(ErrorKind::kInvalidArgument, "weights: one per edge");
  for (std::size_t k = 0; k < pairs.size(); ++k)
    m.edges.push_back({pairs[k].first, pairs[k].second, w[k]});
  m.bias = values_arg(bias, nodes, "bias", "nodes");
  m.beta = beta;
  return m;
}

}  // namespace

void bind_boltzmann(py::module_& m) {
  using runtime::LearningRateSchedule;
  using runtime::Rounding;
  const BoltzmannOptions d;
  py::class_<PyBoltzmannTrainer>(
      m, "BoltzmannTrainer",
      "Boltzmann learning on a p-bit board (runtime/pbit/boltzmann_learning.hpp): the gradient "
      "from clamped and free moments measured on the board, weights kept in float64 on the host "
      "(coupling units) and written as the board's codes every step.")
      .def(py::init(
               [](py::object board, std::uint32_t nodes, const std::vector<std::string>& roles,
                  const py::object& edges, const py::object& weights, const py::object& bias,
                  const py::object& placement, const py::object& trainable_edges,
                  const py::object& bias_trainable, double beta, std::vector<double> beta_schedule,
                  std::uint32_t batch, std::uint32_t free_copies, std::uint32_t chains,
                  std::uint64_t burn_in_sweeps, std::uint64_t sweeps, std::uint32_t sample_every,
                  double learning_rate, const std::string& schedule, std::uint64_t decay_steps,
                  double momentum, double weight_decay, const std::string& rounding,
                  std::uint64_t seed, double timeout_s) {
                 auto* b = board.cast<PyPbitBoard*>();
                 BoltzmannOptions o;
                 o.beta = beta;
                 o.beta_schedule = std::move(beta_schedule);
                 o.batch = batch;
                 o.free_copies = free_copies;
                 o.chains = chains;
                 o.burn_in_sweeps = burn_in_sweeps;
                 o.sweeps = sweeps;
                 o.sample_every = sample_every;
                 o.learning_rate = learning_rate;
                 o.schedule =
                     enum_arg(schedule,
                              {LearningRateSchedule::kConstant, LearningRateSchedule::kInverseTime,
                               LearningRateSchedule::kCosine},
                              "schedule");
                 o.decay_steps = decay_steps;
                 o.momentum = momentum;
                 o.weight_decay = weight_decay;
                 o.rounding =
                     enum_arg(rounding, {Rounding::kNearest, Rounding::kStochastic}, "rounding");
                 o.seed = seed;
                 o.timeout = timeout_arg(timeout_s);
                 o.validate(b->board.pbit());
                 BoltzmannModel model = model_arg(nodes, roles, edges, weights, bias, placement,
                                                  trainable_edges, bias_trainable);
                 auto trainer = with_board(*b->handle, [&] {
                   return std::make_unique<BoltzmannTrainer>(b->board, std::move(model), o);
                 });
                 return PyBoltzmannTrainer{board, b, std::move(trainer)};
               }),
           py::arg("board"), py::kw_only(), py::arg("nodes"), py::arg("roles"),
           py::arg("edges") = py::none(), py::arg("weights") = py::none(),
           py::arg("bias") = py::none(), py::arg("placement") = py::none(),
           py::arg("trainable_edges") = py::none(), py::arg("bias_trainable") = py::none(),
           py::arg("beta") = d.beta, py::arg("beta_schedule") = d.beta_schedule,
           py::arg("batch") = d.batch, py::arg("free_copies") = d.free_copies,
           py::arg("chains") = d.chains, py::arg("burn_in_sweeps") = d.burn_in_sweeps,
           py::arg("sweeps") = d.sweeps, py::arg("sample_every") = d.sample_every,
           py::arg("learning_rate") = d.learning_rate,
           py::arg("schedule") = std::string(to_string(d.schedule)),
           py::arg("decay_steps") = d.decay_steps, py::arg("momentum") = d.momentum,
           py::arg("weight_decay") = d.weight_decay,
           py::arg("rounding") = std::string(to_string(d.rounding)), py::arg("seed") = d.seed,
           py::arg("timeout_s") = std::chrono::duration<double>(d.timeout).count())
      .def(
          "step",
          [](PyBoltzmannTrainer& t, const py::object& visible, const py::object& inputs) {
            const auto batch = examples_arg(t.trainer->model(), visible, inputs);
            return step_result(
                with_board(*t.board->handle, [&] { return t.trainer->step(batch); }));
          },
          py::arg("visible"), py::arg("inputs") = py::none(),
          "One gradient step on a batch (exactly `batch` rows of +-1 or 0/1, one column per "
          "visible node; `inputs` likewise per input node). Returns BoltzmannStepResult.")
      .def(
          "estimate",
          [](PyBoltzmannTrainer& t, const py::object& visible, const py::object& inputs) {
            const auto batch = examples_arg(t.trainer->model(), visible, inputs);
            return step_result(
                with_board(*t.board->handle, [&] { return t.trainer->estimate(batch); }));
          },
          py::arg("visible"), py::arg("inputs") = py::none(),
          "The clamped and free moments of a batch without an update.")
      .def(
          "sample_visible",
          [](PyBoltzmannTrainer& t, std::uint64_t count, const py::object& inputs) {
            const BoltzmannModel& model = t.trainer->model();
            const std::size_t inputs_per = model.nodes_with(NodeRole::kInput).size();
            std::vector<std::vector<int>> in;
            if (!inputs.is_none())
              in = spins_arg(inputs, inputs_per, "inputs");
            const auto samples =
                with_board(*t.board->handle, [&] { return t.trainer->sample_visible(count, in); });
            return spins_array(samples, model.nodes_with(NodeRole::kVisible).size());
          },
          py::arg("count"), py::arg("inputs") = py::none(),
          "`count` samples of the visible nodes (count x visible, int8 +-1) from the current "
          "model on the board; a conditional model takes one row of inputs per sample.")
      .def_property_readonly(
          "weights",
          [](const PyBoltzmannTrainer& t) {
            std::vector<double> w;
            for (const auto& e : t.trainer->model().edges)
              w.push_back(e.weight);
            return array_of(w);
          },
          "The host weights (coupling units), one per edge (a copy).")
      .def_property_readonly(
          "bias",
          [](const PyBoltzmannTrainer& t) {
            const BoltzmannModel& model = t.trainer->model();
            std::vector<double> b;
            for (std::uint32_t i = 0; i < model.nodes; ++i)
              b.push_back(model.bias_of(i));
            return array_of(b);
          },
          "The host biases (coupling units), one per node (a copy).")
      .def_property_readonly(
          "edges",
          [](const PyBoltzmannTrainer& t) {
            const auto& edges = t.trainer->model().edges;
            py::array_t<std::int64_t> out({static_cast<py::ssize_t>(edges.size()), py::ssize_t{2}});
            auto a = out.mutable_unchecked<2>();
            for (std::size_t k = 0; k < edges.size(); ++k) {
              a(static_cast<py::ssize_t>(k), 0) = edges[k].i;
              a(static_cast<py::ssize_t>(k), 1) = edges[k].j;
            }
            return out;
          },
          "The model's edges (E x 2), in the order of weights and correlations.")
      .def_property_readonly(
          "roles",
          [](const PyBoltzmannTrainer& t) {
            std::vector<std::string> roles;
            for (const NodeRole r : t.trainer->model().roles)
              roles.emplace_back(to_string(r));
            return roles;
          },
          "Each node's role: 'visible', 'hidden' or 'input'.")
      .def_property_readonly(
          "placement", [](const PyBoltzmannTrainer& t) { return t.trainer->placement(); },
          "The lattice node of every model node in copy 0.")
      .def_property_readonly("steps_done",
                             [](const PyBoltzmannTrainer& t) { return t.trainer->steps_done(); })
      .def(
          "program",
          [](const PyBoltzmannTrainer& t) {
            const driver::LatticeProgram p = t.trainer->program();
            return py::make_tuple(py::array_t<std::int8_t>(
                                      static_cast<py::ssize_t>(p.weights.size()), p.weights.data()),
                                  py::array_t<std::int8_t>(
                                      static_cast<py::ssize_t>(p.biases.size()), p.biases.data()));
          },
          "The current model's codes for one copy, rounded to nearest: (weights per lattice "
          "edge, biases per lattice node), both int8.")
      .def(
          "save",
          [](const PyBoltzmannTrainer& t, const std::string& path) {
            t.trainer->save_checkpoint(path);
          },
          py::arg("path"),
          "Writes the checkpoint (JSON, kind \"kelvin.boltzmann-machine\"; `kelvin generate` "
          "reads it).")
      .def_static(
          "load",
          [](py::object board, const std::string& path) {
            auto* b = board.cast<PyPbitBoard*>();
            auto trainer = with_board(*b->handle, [&] {
              return std::make_unique<BoltzmannTrainer>(
                  BoltzmannTrainer::load_checkpoint(b->board, path));
            });
            return PyBoltzmannTrainer{board, b, std::move(trainer)};
          },
          py::arg("board"), py::arg("path"),
          "A trainer from a checkpoint (BoltzmannTrainer.save, kelvin train-ebm --checkpoint) "
          "on `board`.");

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
