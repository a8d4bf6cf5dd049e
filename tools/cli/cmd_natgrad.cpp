// kelvin natgrad --fisher FILE --grad FILE [--uri URI] [--damping L] [--time T] [--repeats R]
//                [--preconditioning auto|jacobi|none] [--json]
#include <chrono>
#include <exception>
#include <iterator>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/natural_gradient.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"

namespace kelvin::tools::cli {

namespace {

using json = nlohmann::ordered_json;

json natgrad_summary_json(const runtime::NaturalGradientSummary& s) {
  return json{{"brief", s.brief_report()},
              {"serial", s.serial},
              {"unknowns", s.unknowns},
              {"damping", s.damping},
              {"time_us", s.time_us},
              {"upload_delay_us", s.upload_delay_us},
              {"warm_start", s.warm_start},
              {"coupling_scale", s.coupling_scale},
              {"state_scale", s.state_scale},
              {"noise_code", s.noise_code},
              {"lambda_min", s.lambda_min},
              {"lambda_max", s.lambda_max},
              {"remaining_transient", s.remaining_transient},
              {"matrix_quantization_error", s.matrix_quantization_error},
              {"preconditioning",
               preconditioning_json(s.jacobi, s.preconditioning, s.predicted_quantization_error)},
              {"randomized_rounding", s.randomized_rounding},
              {"repeats", s.repeats},
              {"samples", s.samples},
              {"device_time_s", s.device_time_s},
              {"clipped_samples", s.clipped_samples},
              {"wall_time_s", s.wall_time_s}};
}

std::string estimate_text(const runtime::NaturalGradientResult& r) {
  std::string out = fmt::format("{:>5}  {:>18}  {:>10}\n", "i", "estimate", "stderr");
  for (Eigen::Index i = 0; i < r.estimate.size(); ++i) {
    fmt::format_to(std::back_inserter(out), "{:>5}  {:>18.10g}  {:>10.3g}\n", i, r.estimate(i),
                   r.standard_error(i));
  }
  return out + "\n" + r.summary.full_report();
}

}  // namespace

Command add_natgrad_command(CLI::App& app) {
  struct Options {
    std::string uri;
    std::string fisher;
    std::string grad;
    bool json = false;
    runtime::NaturalGradientOptions natgrad;
    double timeout_s = 0.0;
  };
  auto options = std::make_shared<Options>();
  options->timeout_s = std::chrono::duration<double>(options->natgrad.timeout).count();

  CLI::App* command = app.add_subcommand(
      "natgrad", "Estimate the natural gradient (F + lambda I)^-1 g on a resonator board");
  add_uri_option(*command, options->uri);
  command->add_option("--fisher", options->fisher, "F: text or .npy file, N x N (PSD)")->required();
  command->add_option("--grad", options->grad, "g: text or .npy file, N values")->required();
  command->add_option("--damping", options->natgrad.damping, "lambda added to F's diagonal")
      ->capture_default_str();
  command
      ->add_option("--time", options->natgrad.time_us,
                   "Analog time t in device microseconds (0: the gradient itself, SGD; large: "
                   "the natural gradient)")
      ->capture_default_str();
  command->add_option("--repeats", options->natgrad.repeats, "Reads; their spread is the stderr")
      ->capture_default_str();
  add_preconditioning_option(*command, options->natgrad.preconditioning);
  command->add_option("--timeout-s", options->timeout_s, "Deadline for the whole estimate, seconds")
      ->check(CLI::Range(1e-3, 1e7))
      ->capture_default_str();
  command->add_flag(
      "--json", options->json,
      "Print one JSON object {\"estimate\", \"stderr\", \"summary\"} instead of text");
  command->footer(
      fmt::format("Files: text or NumPy .npy, as for 'kelvin solve'.\nDevice addresses:\n  {}",
                  driver::backends::uri_help()));

  return {command, [options] {
            const Eigen::MatrixXd f = tools::matrix_io::read_matrix(options->fisher);
            const Eigen::VectorXd g = tools::matrix_io::read_vector(options->grad);
            runtime::NaturalGradientOptions natgrad = options->natgrad;
            natgrad.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::duration<double>(options->timeout_s));
            try {
              natgrad.validate();
            } catch (const std::exception& e) {
              throw UsageError(fmt::format("{} (see 'kelvin natgrad --help')", e.what()));
            }
            driver::ResonatorBoard board = open_resonator_board(options->uri);
            runtime::NaturalGradientEstimator estimator(board, natgrad);
            const auto result = estimator.estimate(g, f);
            if (options->json) {
              return dump_json(json{{"estimate", vector_json(result.estimate)},
                                    {"stderr", vector_json(result.standard_error)},
                                    {"summary", natgrad_summary_json(result.summary)},
                                    {"energy", energy_json(result.summary.energy)}});
            }
            return estimate_text(result);
          }};
}

}  // namespace kelvin::tools::cli
