// kelvin.natgrad and kelvin.NaturalGradientEstimator (runtime/natural_gradient.hpp): the
// thermodynamic natural gradient from g and a dense F or GGN factors J, H. With N above the
// board's cells the estimator's row-space path runs when F's rank fits the board; natgrad()'s
// method "auto" then falls back to the runtime's block solve (block_solve.hpp with DampedGgn),
// which returns the natural gradient itself (no analog-time interpolation; its summary is a
// BlockSolveSummary and says so).
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "kelvin/runtime/block_solve.hpp"
#include "kelvin/runtime/damped_ggn.hpp"
#include "kelvin/runtime/natural_gradient.hpp"

namespace kelvin::python {

namespace {

using common::Error;
using common::ErrorKind;
using runtime::NaturalGradientOptions;
using runtime::Preconditioning;

struct PyEstimator {
  py::object board_object;  // keeps the board alive
  PyResonatorBoard* board = nullptr;
  std::unique_ptr<runtime::NaturalGradientEstimator> estimator;
};

NaturalGradientOptions make_options(double damping, double time_us,
                                    std::optional<double> transient_tolerance, int repeats,
                                    bool warm_start, double upload_delay_us, double mean_fraction,
                                    double noise_sigmas, const std::string& preconditioning,
                                    bool randomized_rounding, int load_relaxation_samples,
                                    std::uint64_t rounding_seed, double symmetry_tolerance,
                                    double timeout_s) {
  NaturalGradientOptions o;
  o.damping = damping;
  o.time_us = time_us;
  o.transient_tolerance = transient_tolerance;
  o.repeats = repeats;
  o.warm_start = warm_start;
  o.upload_delay_us = upload_delay_us;
  o.mean_fraction = mean_fraction;
  o.noise_sigmas = noise_sigmas;
  o.preconditioning = enum_arg(
      preconditioning, {Preconditioning::kAuto, Preconditioning::kJacobi, Preconditioning::kNone},
      "preconditioning");
  o.randomized_rounding = randomized_rounding;
  o.load_relaxation_samples = load_relaxation_samples;
  o.rounding_seed = rounding_seed;
  o.symmetry_tolerance = symmetry_tolerance;
  o.timeout = timeout_arg(timeout_s);
  o.validate();
  return o;
}

// The curvature arguments: exactly one of F, or J (with H, identity when None).
struct Curvature {
  std::optional<Eigen::MatrixXd> f;
  std::optional<Eigen::MatrixXd> j;
  std::optional<Eigen::MatrixXd> h;
};

Curvature curvature_args(const py::object& F, const py::object& J, const py::object& H) {
  Curvature c;
  if (!F.is_none() && !J.is_none())
    throw Error(ErrorKind::kInvalidArgument, "give either F or J (with H), not both");
  if (F.is_none() && J.is_none())
    throw Error(ErrorKind::kInvalidArgument, "give the curvature: F, or its factors J and H");
  if (!F.is_none()) {
    if (!H.is_none())
      throw Error(ErrorKind::kInvalidArgument, "H goes with J, not with F");
    c.f = matrix_arg(F, "F");
    return c;
  }
  c.j = matrix_arg(J, "J");
  c.h = H.is_none() ? Eigen::MatrixXd::Identity(c.j->rows(), c.j->rows()) : matrix_arg(H, "H");
  return c;
}

py::object natural_gradient_result(runtime::NaturalGradientResult r) {
  Eigen::MatrixXd repeats(static_cast<Eigen::Index>(r.repeat_estimates.size()), r.estimate.size());
  for (std::size_t k = 0; k < r.repeat_estimates.size(); ++k)
    repeats.row(static_cast<Eigen::Index>(k)) = r.repeat_estimates[k].transpose();
  py::object summary = summary_object(r.summary, "NaturalGradientSummary");
  return result_class("NaturalGradientResult")(
      py::arg("estimate") = py::cast(std::move(r.estimate)),
      py::arg("standard_error") = py::cast(std::move(r.standard_error)),
      py::arg("repeat_estimates") = py::cast(std::move(repeats)), py::arg("summary") = summary);
}

runtime::NaturalGradientResult run_estimate(PyResonatorBoard& b,
                                            runtime::NaturalGradientEstimator& est,
                                            const Eigen::VectorXd& g, const Curvature& c) {
  return with_board(*b.handle,
                    [&] { return c.f ? est.estimate(g, *c.f) : est.estimate(g, *c.j, *c.h); });
}

}  // namespace

void bind_natural_gradient(py::module_& m) {
  const NaturalGradientOptions d;
  const double default_timeout_s = std::chrono::duration<double>(d.timeout).count();
  py::class_<PyEstimator>(m, "NaturalGradientEstimator",
                          "TNGD on one board, keeping the previous step for warm start and "
                          "upload delay (runtime/natural_gradient.hpp).")
      .def(py::init([](py::object board, double damping, double time_us,
                       std::optional<double> transient_tolerance, int repeats, bool warm_start,
                       double upload_delay_us, double mean_fraction, double noise_sigmas,
                       const std::string& preconditioning, bool randomized_rounding,
                       int load_relaxation_samples, std::uint64_t rounding_seed,
                       double symmetry_tolerance, double timeout_s) {
             auto* b = board.cast<PyResonatorBoard*>();
             auto o = make_options(damping, time_us, transient_tolerance, repeats, warm_start,
                                   upload_delay_us, mean_fraction, noise_sigmas, preconditioning,
                                   randomized_rounding, load_relaxation_samples, rounding_seed,
                                   symmetry_tolerance, timeout_s);
             return PyEstimator{board, b,
                                std::make_unique<runtime::NaturalGradientEstimator>(b->board, o)};
           }),
           py::arg("board"), py::kw_only(), py::arg("damping") = d.damping,
           py::arg("time_us") = d.time_us, py::arg("transient_tolerance") = d.transient_tolerance,
           py::arg("repeats") = d.repeats, py::arg("warm_start") = d.warm_start,
           py::arg("upload_delay_us") = d.upload_delay_us,
           py::arg("mean_fraction") = d.mean_fraction, py::arg("noise_sigmas") = d.noise_sigmas,
           py::arg("preconditioning") = std::string(to_string(d.preconditioning)),
           py::arg("randomized_rounding") = d.randomized_rounding,
           py::arg("load_relaxation_samples") = d.load_relaxation_samples,
           py::arg("rounding_seed") = d.rounding_seed,
           py::arg("symmetry_tolerance") = d.symmetry_tolerance,
           py::arg("timeout_s") = default_timeout_s)
      .def(
          "estimate",
          [](PyEstimator& e, const py::handle& g, const py::object& F, const py::object& J,
             const py::object& H, const py::object& start) {
            const Eigen::VectorXd gv = vector_arg(g, "g");
            const Curvature c = curvature_args(F, J, H);
            if (!start.is_none())
              e.estimator->set_start(vector_arg(start, "start"));
            return natural_gradient_result(run_estimate(*e.board, *e.estimator, gv, c));
          },
          py::arg("g"), py::arg("F") = py::none(), py::kw_only(), py::arg("J") = py::none(),
          py::arg("H") = py::none(), py::arg("start") = py::none(),
          "One estimate of (F + damping I)^-1 g at analog time t, from F or from J and H (H None: "
          "identity). `start` (optional) is x0 for this estimate (resuming a warm start). "
          "Returns NaturalGradientResult(estimate, standard_error, repeat_estimates, summary).")
      .def(
          "previous_estimate",
          [](const PyEstimator& e) -> py::object {
            const auto& p = e.estimator->previous_estimate();
            return p ? py::cast(Eigen::VectorXd(*p)) : py::none();
          },
          "The previous step's estimate (what warm start starts from), or None.")
      .def(
          "reset", [](PyEstimator& e) { e.estimator->reset(); },
          "Forgets the previous step: the next estimate starts from g.");

  m.def(
      "natgrad",
      [](py::object board, const py::handle& g, const py::object& F, const py::object& J,
         const py::object& H, const std::string& method, double damping, double time_us,
         std::optional<double> transient_tolerance, int repeats, double mean_fraction,
         double noise_sigmas, const std::string& preconditioning, bool randomized_rounding,
         std::uint64_t rounding_seed, double symmetry_tolerance, double tolerance,
         double timeout_s) -> py::object {
        auto* b = board.cast<PyResonatorBoard*>();
        if (method != "auto" && method != "analog" && method != "blocks") {
          throw Error(
              ErrorKind::kInvalidArgument,
              fmt::format("method = '{}' is not one of 'auto', 'analog', 'blocks'", method));
        }
        const NaturalGradientOptions o = make_options(
            damping, time_us, transient_tolerance, repeats, false, 0.0, mean_fraction, noise_sigmas,
            preconditioning, randomized_rounding, 16, rounding_seed, symmetry_tolerance, timeout_s);
        const Eigen::VectorXd gv = vector_arg(g, "g");
        const Curvature c = curvature_args(F, J, H);
        const bool large = gv.size() > static_cast<Eigen::Index>(b->board.cells());
        bool blocks = method == "blocks";
        if (method == "auto" && large && c.j) {
          // The row-space path needs F's rank within the cells; the rows of J bound it.
          blocks = c.j->rows() > static_cast<Eigen::Index>(b->board.cells());
        }
        if (!blocks) {
          runtime::NaturalGradientEstimator est(b->board, o);
          return natural_gradient_result(run_estimate(*b, est, gv, c));
        }
        if (!c.j)
          throw Error(ErrorKind::kInvalidArgument, "method 'blocks' takes the factors J and H");
        runtime::BlockSolveOptions bo;
        bo.tolerance = tolerance;
        bo.timeout = o.timeout;
        bo.block.rounding_seed = rounding_seed;
        bo.block.symmetry_tolerance = symmetry_tolerance;
        bo.validate();
        const runtime::DampedGgn ggn(*c.j, *c.h, damping, symmetry_tolerance);
        runtime::BlockSolveResult r =
            with_board(*b->handle, [&] { return runtime::block_solve(&b->board, ggn, gv, bo); });
        py::object summary = summary_object(r.summary, "BlockSolveSummary");
        return result_class("NaturalGradientResult")(
            py::arg("estimate") = py::cast(std::move(r.x)),
            py::arg("standard_error") = py::cast(std::move(r.error_estimate)),
            py::arg("repeat_estimates") = py::none(), py::arg("summary") = summary);
      },
      py::arg("board"), py::arg("g"), py::arg("F") = py::none(), py::kw_only(),
      py::arg("J") = py::none(), py::arg("H") = py::none(), py::arg("method") = "auto",
      py::arg("damping") = d.damping, py::arg("time_us") = d.time_us,
      py::arg("transient_tolerance") = d.transient_tolerance, py::arg("repeats") = d.repeats,
      py::arg("mean_fraction") = d.mean_fraction, py::arg("noise_sigmas") = d.noise_sigmas,
      py::arg("preconditioning") = std::string(to_string(d.preconditioning)),
      py::arg("randomized_rounding") = d.randomized_rounding,
      py::arg("rounding_seed") = d.rounding_seed,
      py::arg("symmetry_tolerance") = d.symmetry_tolerance,
      py::arg("tolerance") = runtime::BlockSolveOptions{}.tolerance,
      py::arg("timeout_s") = default_timeout_s,
      "One natural-gradient estimate (F + damping I)^-1 g on a resonator board. method 'analog' "
      "runs TNGD (parameter space, or row space for N above the cells with J of few rows); "
      "'blocks' the block solve of the damped GGN (N above the cells, the natural gradient "
      "itself: standard_error is then the block solve's error estimate); 'auto' (default) "
      "chooses 'blocks' only when J has more rows than the board has cells. For steps that keep "
      "state (warm start, upload delay) use NaturalGradientEstimator.");
}

}  // namespace kelvin::python
