// kelvin natgrad --fisher FILE --grad FILE [--uri URI] [--damping L]
//                [--time T | --transient-tolerance EPS] [--repeats R]
//                [--preconditioning auto|jacobi|none] [--symmetry-tolerance TOL] [--timeout-s S]
//                [--json] [-o FILE.h5]
//
// -o FILE.h5 writes a run file (docs/run-files.md): /data/estimate, /data/stderr, /data/F and
// /data/g.
#include <iterator>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "kelvin/runtime/natural_gradient.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/cli/options.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"
#include "run_file_output.hpp"

namespace kelvin::tools::cli {
namespace {

// The estimate with its standard error and 95% half-width (Student t, repeats - 1 dof), then
// the summary (whose warnings say when the transient is larger than these error bars).
std::string estimate_text(const runtime::NaturalGradientResult& r) {
  std::string out = fmt::format("{:>5}  {:>18}  {:>10}  {:>10}\n", "i", "estimate", "stderr",
                                fmt::format("95% +-({})", r.summary.degrees_of_freedom));
  for (Eigen::Index i = 0; i < r.estimate.size(); ++i) {
    fmt::format_to(std::back_inserter(out), "{:>5}  {:>18.10g}  {:>10.3g}  {:>10.3g}\n", i,
                   r.estimate(i), r.standard_error(i), r.summary.t95 * r.standard_error(i));
  }
  return out + "\n" + r.summary.full_report();
}

constexpr const char* kTimeHelp =
    "Analog time t in device microseconds, run in whole sample periods (0: the gradient itself, "
    "SGD; t >> 1/lambda_min,dev: the natural gradient; in between TNGD's interpolation, which "
    "the summary warns about when its transient exceeds the stderr)";
constexpr const char* kTransientHelp =
    "Ask for the natural gradient: run until the transient left, exp(-lambda_min,dev t), is at "
    "most this value, in (0, 1), instead of --time";

}  // namespace

Command add_natgrad_command(CLI::App& app) {
  struct Options {
    CommonOptions common;
    std::string fisher;
    std::string grad;
    std::string output;
    runtime::NaturalGradientOptions natgrad;
    double transient_tolerance = 0.0;  // natgrad.transient_tolerance when given
    CLI::Option* transient_option = nullptr;
  };
  auto options = std::make_shared<Options>();

  CLI::App* command = app.add_subcommand(
      "natgrad", "Estimate the natural gradient (F + lambda I)^-1 g on a resonator board");
  add_uri_option(*command, options->common);
  command->add_option("--fisher", options->fisher, "F: text or .npy file, N x N (PSD)")->required();
  command->add_option("--grad", options->grad, "g: text or .npy file, N values")->required();
  command->add_option("--damping", options->natgrad.damping, "lambda added to F's diagonal")
      ->capture_default_str();
  CLI::Option* time =
      command->add_option("--time", options->natgrad.time_us, kTimeHelp)->capture_default_str();
  options->transient_option =
      command->add_option("--transient-tolerance", options->transient_tolerance, kTransientHelp)
          ->excludes(time);
  command
      ->add_option("--repeats", options->natgrad.repeats,
                   "Reads (at least 2); their spread is the stderr, with repeats - 1 degrees of "
                   "freedom")
      ->capture_default_str();
  add_preconditioning_option(*command, options->natgrad.preconditioning);
  add_symmetry_tolerance_option(*command, options->natgrad.symmetry_tolerance);
  add_calibration_option(*command, options->natgrad.calibration);
  add_timeout_option(*command, options->common, runtime::NaturalGradientOptions{}.timeout,
                     "the whole estimate");
  add_json_flag(*command, options->common, "\"estimate\", \"stderr\", \"summary\", \"energy\"");
  add_run_file_option(*command, options->output);
  command->footer(addresses_footer(
      "The stderr has repeats - 1 degrees of freedom (summary: degrees_of_freedom, and t95,\n"
      "the factor of a 95% interval). It does not include the transient: at the default\n"
      "--time the estimate can be TNGD's interpolation between g and the natural gradient, and\n"
      "the summary then warns; --transient-tolerance EPS asks for the natural gradient itself.\n"
      "Files: text or NumPy .npy, as for 'kelvin solve'.\n"));

  return {command, [options] {
            const Eigen::MatrixXd f = matrix_io::read_matrix(options->fisher);
            const Eigen::VectorXd g = matrix_io::read_vector(options->grad);
            runtime::NaturalGradientOptions natgrad = options->natgrad;
            if (options->transient_option->count() > 0)
              natgrad.transient_tolerance = options->transient_tolerance;
            natgrad.timeout = options->common.timeout();
            validate_usage(natgrad, "natgrad");
            driver::ResonatorBoard board = open_resonator_board(options->common.uri);
            RunRecord record{"natgrad", options->common.uri, board.description()};
            record.settings =
                Json{{"fisher_file", options->fisher},
                     {"grad_file", options->grad},
                     {"damping", natgrad.damping},
                     {"time_us", natgrad.time_us},
                     {"transient_tolerance", optional_json(natgrad.transient_tolerance)},
                     {"repeats", natgrad.repeats},
                     {"symmetry_tolerance", natgrad.symmetry_tolerance}};
            auto file = open_run_file_if(options->output, record);
            runtime::NaturalGradientEstimator estimator(board, natgrad);
            const auto result = recording_failure(file, [&] { return estimator.estimate(g, f); });
            const Json json{{"estimate", vector_json(result.estimate)},
                            {"stderr", vector_json(result.standard_error)},
                            {"summary", summary_json(result.summary)},
                            {"energy", energy_json(result.summary.energy)}};
            if (file) {
              write_data(*file, "F", f);
              write_data(*file, "g", g);
              write_data(*file, "estimate", result.estimate);
              write_data(*file, "stderr", result.standard_error);
              finish_run_file(*file, json);
            }
            if (options->common.json)
              return write_json(json);
            return estimate_text(result);
          }};
}

}  // namespace kelvin::tools::cli
