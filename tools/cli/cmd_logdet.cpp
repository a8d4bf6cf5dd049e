// kelvin logdet --matrix FILE [--uri URI] [--steps K] [--trajectories M] [--bennett]
//               [--timeout-s S] [--json]
#include <chrono>
#include <exception>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/logdet.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"

namespace kelvin::tools::cli {

namespace {

using json = nlohmann::ordered_json;

json logdet_summary_json(const runtime::LogdetSummary& s) {
  json j{{"brief", s.brief_report()},
         {"serial", s.serial},
         {"unknowns", s.unknowns},
         {"estimator", s.estimator},
         {"start", s.start},
         {"jarzynski_logdet", s.jarzynski_logdet},
         {"jarzynski_stderr", s.jarzynski_stderr},
         {"bias_estimate", s.bias_estimate},
         {"mean_work", s.mean_work},
         {"work_stddev", s.work_stddev},
         {"dissipated_work", s.dissipated_work},
         {"effective_trajectories", s.effective_trajectories},
         {"coupling_scale", s.coupling_scale},
         {"noise_code", s.noise_code},
         {"lambda_min", s.lambda_min},
         {"lambda_max", s.lambda_max},
         {"matrix_quantization_error", s.matrix_quantization_error},
         {"randomized_rounding", s.randomized_rounding},
         {"start_logdet", s.start_logdet},
         {"steps", s.steps},
         {"step_samples", s.step_samples},
         {"equilibration_samples", s.equilibration_samples},
         {"trajectories", s.trajectories},
         {"samples", s.samples},
         {"device_time_s", s.device_time_s},
         {"clipped_reads", s.clipped_reads},
         {"wall_time_s", s.wall_time_s},
         {"warning", s.warning}};
  if (s.has_reverse) {
    j["bennett_logdet"] = s.bennett_logdet;
    j["bennett_stderr"] = s.bennett_stderr;
    j["reverse_dissipated_work"] = s.reverse_dissipated_work;
  }
  return j;
}

}  // namespace

Command add_logdet_command(CLI::App& app) {
  struct Options {
    std::string uri;
    std::string matrix;
    bool json = false;
    bool bennett = false;
    runtime::LogdetOptions logdet;
    double timeout_s = 0.0;
  };
  auto options = std::make_shared<Options>();
  options->timeout_s = std::chrono::duration<double>(options->logdet.timeout).count();

  CLI::App* command = app.add_subcommand(
      "logdet", "Estimate log det A on a resonator board (Jarzynski over a coupling ramp)");
  add_uri_option(*command, options->uri);
  command->add_option("--matrix", options->matrix, "A: text or .npy file, N x N (SPD)")->required();
  command->add_option("--steps", options->logdet.steps, "Switches of the ramp from diag(A) to A")
      ->capture_default_str();
  command
      ->add_option("--trajectories", options->logdet.trajectories,
                   "Trajectories per direction (the stderr falls as 1/sqrt of this)")
      ->capture_default_str();
  command->add_flag("--bennett", options->bennett,
                    "Also run the reverse ramp and report Bennett's acceptance ratio");
  command->add_option("--timeout-s", options->timeout_s, "Deadline for the whole job, seconds")
      ->check(CLI::Range(1e-3, 1e7))
      ->capture_default_str();
  command->add_flag("--json", options->json,
                    "Print one JSON object {\"logdet\", \"stderr\", \"summary\", \"energy\"} "
                    "instead of text");
  command->footer(
      fmt::format("Files: text or NumPy .npy, as for 'kelvin solve'.\nDevice addresses:\n  {}",
                  driver::backends::uri_help()));

  return {command, [options] {
            const Eigen::MatrixXd a = tools::matrix_io::read_matrix(options->matrix);
            runtime::LogdetOptions logdet = options->logdet;
            logdet.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::duration<double>(options->timeout_s));
            if (options->bennett)
              logdet.estimator = runtime::LogdetEstimator::kBennett;
            try {
              logdet.validate();
            } catch (const std::exception& e) {
              throw UsageError(fmt::format("{} (see 'kelvin logdet --help')", e.what()));
            }
            driver::ResonatorBoard board = open_resonator_board(options->uri);
            const auto result = runtime::logdet(board, a, logdet);
            if (options->json) {
              return dump_json(json{{"logdet", result.logdet},
                                    {"stderr", result.standard_error},
                                    {"summary", logdet_summary_json(result.summary)},
                                    {"energy", energy_json(result.summary.energy)}});
            }
            return fmt::format("log det A = {:.10g} +- {:.3g} ({})\n\n{}", result.logdet,
                               result.standard_error, result.summary.estimator,
                               result.summary.full_report());
          }};
}

}  // namespace kelvin::tools::cli
