// kelvin.solve, kelvin.inverse and kelvin.logdet: thermodynamic linear algebra on a resonator
// board (runtime/solve.hpp, inverse.hpp, logdet.hpp). Options are keyword arguments whose
// defaults are the C++ Options' own; results are kelvin._results dataclasses.
#include <optional>
#include <string>

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "kelvin/runtime/inverse.hpp"
#include "kelvin/runtime/logdet.hpp"
#include "kelvin/runtime/solve.hpp"

namespace kelvin::python {

namespace {

using runtime::Preconditioning;

// A C++ timeout as the keyword argument's default in seconds.
double seconds(std::chrono::milliseconds timeout) {
  return std::chrono::duration<double>(timeout).count();
}

Preconditioning preconditioning_arg(const std::string& text) {
  return enum_arg(text, {Preconditioning::kAuto, Preconditioning::kJacobi, Preconditioning::kNone},
                  "preconditioning");
}

}  // namespace

void bind_linear_algebra(py::module_& m) {
  const runtime::SolveOptions solve_defaults;
  m.def(
      "solve",
      [](PyResonatorBoard& b, const py::handle& A, const py::handle& rhs,
         std::optional<int> batches, std::optional<double> batch_relaxation_times,
         double burn_in_relaxation_times, double mean_fraction, double noise_sigmas,
         std::optional<bool> auto_range, bool randomized_rounding, std::uint64_t rounding_seed,
         const std::string& preconditioning, double symmetry_tolerance, int max_range_retries,
         double tolerance, int max_iterations, std::uint32_t block_size, double timeout_s) {
        runtime::SolveOptions o;
        o.batches = batches;
        o.batch_relaxation_times = batch_relaxation_times;
        o.burn_in_relaxation_times = burn_in_relaxation_times;
        o.mean_fraction = mean_fraction;
        o.noise_sigmas = noise_sigmas;
        o.auto_range = auto_range;
        o.randomized_rounding = randomized_rounding;
        o.rounding_seed = rounding_seed;
        o.preconditioning = preconditioning_arg(preconditioning);
        o.symmetry_tolerance = symmetry_tolerance;
        o.max_range_retries = max_range_retries;
        o.tolerance = tolerance;
        o.max_iterations = max_iterations;
        o.block_size = block_size;
        o.timeout = timeout_arg(timeout_s);
        o.validate();
        const Eigen::MatrixXd a = matrix_arg(A, "A");
        const Eigen::VectorXd v = vector_arg(rhs, "b");
        runtime::SolveResult r =
            with_board(*b.handle, [&] { return runtime::solve(b.board, a, v, o); });
        py::object summary = summary_object(r.summary, "SolveSummary");
        return result_class("SolveResult")(
            py::arg("x") = py::cast(std::move(r.x)),
            py::arg("standard_error") = py::cast(std::move(r.standard_error)),
            py::arg("summary") = summary);
      },
      py::arg("board"), py::arg("A"), py::arg("b"), py::kw_only(),
      py::arg("batches") = solve_defaults.batches,
      py::arg("batch_relaxation_times") = solve_defaults.batch_relaxation_times,
      py::arg("burn_in_relaxation_times") = solve_defaults.burn_in_relaxation_times,
      py::arg("mean_fraction") = solve_defaults.mean_fraction,
      py::arg("noise_sigmas") = solve_defaults.noise_sigmas,
      py::arg("auto_range") = solve_defaults.auto_range,
      py::arg("randomized_rounding") = solve_defaults.randomized_rounding,
      py::arg("rounding_seed") = solve_defaults.rounding_seed,
      py::arg("preconditioning") = std::string(to_string(solve_defaults.preconditioning)),
      py::arg("symmetry_tolerance") = solve_defaults.symmetry_tolerance,
      py::arg("max_range_retries") = solve_defaults.max_range_retries,
      py::arg("tolerance") = solve_defaults.tolerance,
      py::arg("max_iterations") = solve_defaults.max_iterations,
      py::arg("block_size") = solve_defaults.block_size,
      py::arg("timeout_s") = seconds(solve_defaults.timeout),
      "Solves A x = b on a resonator board (runtime/solve.hpp): directly when n <= cells, else "
      "by block-Jacobi CG with the blocks on the board. None means the path's own default. "
      "Returns SolveResult(x, standard_error, summary).");

  const runtime::InverseOptions inverse_defaults;
  m.def(
      "inverse",
      [](PyResonatorBoard& b, const py::handle& A, int batches, double batch_relaxation_times,
         double burn_in_relaxation_times, double noise_sigmas, bool randomized_rounding,
         std::uint64_t rounding_seed, double symmetry_tolerance, double timeout_s) {
        runtime::InverseOptions o;
        o.batches = batches;
        o.batch_relaxation_times = batch_relaxation_times;
        o.burn_in_relaxation_times = burn_in_relaxation_times;
        o.noise_sigmas = noise_sigmas;
        o.randomized_rounding = randomized_rounding;
        o.rounding_seed = rounding_seed;
        o.symmetry_tolerance = symmetry_tolerance;
        o.timeout = timeout_arg(timeout_s);
        o.validate();
        const Eigen::MatrixXd a = matrix_arg(A, "A");
        runtime::InverseResult r =
            with_board(*b.handle, [&] { return runtime::inverse(b.board, a, o); });
        py::object summary = summary_object(r.summary, "InverseSummary");
        return result_class("InverseResult")(
            py::arg("inverse") = py::cast(std::move(r.inverse)),
            py::arg("standard_error") = py::cast(std::move(r.standard_error)),
            py::arg("summary") = summary);
      },
      py::arg("board"), py::arg("A"), py::kw_only(), py::arg("batches") = inverse_defaults.batches,
      py::arg("batch_relaxation_times") = inverse_defaults.batch_relaxation_times,
      py::arg("burn_in_relaxation_times") = inverse_defaults.burn_in_relaxation_times,
      py::arg("noise_sigmas") = inverse_defaults.noise_sigmas,
      py::arg("randomized_rounding") = inverse_defaults.randomized_rounding,
      py::arg("rounding_seed") = inverse_defaults.rounding_seed,
      py::arg("symmetry_tolerance") = inverse_defaults.symmetry_tolerance,
      py::arg("timeout_s") = seconds(inverse_defaults.timeout),
      "A^-1 from the board's second moments (runtime/inverse.hpp). Returns "
      "InverseResult(inverse, standard_error, summary).");

  const runtime::LogdetOptions logdet_defaults;
  m.def(
      "logdet",
      [](PyResonatorBoard& b, const py::handle& A, int steps, double step_relaxation_times,
         int trajectories, double equilibration_relaxation_times, double noise_sigmas,
         const std::string& start, const std::string& estimator, bool randomized_rounding,
         std::uint64_t rounding_seed, double symmetry_tolerance, double timeout_s) {
        using runtime::LogdetEstimator;
        using runtime::RampStart;
        runtime::LogdetOptions o;
        o.steps = steps;
        o.step_relaxation_times = step_relaxation_times;
        o.trajectories = trajectories;
        o.equilibration_relaxation_times = equilibration_relaxation_times;
        o.noise_sigmas = noise_sigmas;
        o.start = enum_arg(start, {RampStart::kDiagonal, RampStart::kScaledIdentity}, "start");
        o.estimator =
            enum_arg(estimator, {LogdetEstimator::kJarzynskiForward, LogdetEstimator::kBennett},
                     "estimator");
        o.randomized_rounding = randomized_rounding;
        o.rounding_seed = rounding_seed;
        o.symmetry_tolerance = symmetry_tolerance;
        o.timeout = timeout_arg(timeout_s);
        o.validate();
        const Eigen::MatrixXd a = matrix_arg(A, "A");
        runtime::LogdetResult r =
            with_board(*b.handle, [&] { return runtime::logdet(b.board, a, o); });
        py::object summary = summary_object(r.summary, "LogdetSummary");
        return result_class("LogdetResult")(
            py::arg("logdet") = r.logdet, py::arg("standard_error") = r.standard_error,
            py::arg("quantized_matrix") = py::cast(std::move(r.quantized_matrix)),
            py::arg("forward_work") = py::cast(std::move(r.forward_work)),
            py::arg("reverse_work") = py::cast(std::move(r.reverse_work)),
            py::arg("summary") = summary);
      },
      py::arg("board"), py::arg("A"), py::kw_only(), py::arg("steps") = logdet_defaults.steps,
      py::arg("step_relaxation_times") = logdet_defaults.step_relaxation_times,
      py::arg("trajectories") = logdet_defaults.trajectories,
      py::arg("equilibration_relaxation_times") = logdet_defaults.equilibration_relaxation_times,
      py::arg("noise_sigmas") = logdet_defaults.noise_sigmas,
      py::arg("start") = std::string(to_string(logdet_defaults.start)),
      py::arg("estimator") = std::string(to_string(logdet_defaults.estimator)),
      py::arg("randomized_rounding") = logdet_defaults.randomized_rounding,
      py::arg("rounding_seed") = logdet_defaults.rounding_seed,
      py::arg("symmetry_tolerance") = logdet_defaults.symmetry_tolerance,
      py::arg("timeout_s") = seconds(logdet_defaults.timeout),
      "log det A by Jarzynski's equality over a coupling ramp (runtime/logdet.hpp); estimator "
      "'bennett' adds the reverse ramp. Returns LogdetResult(logdet, standard_error, "
      "quantized_matrix, forward_work, reverse_work, summary).");
}

}  // namespace kelvin::python
