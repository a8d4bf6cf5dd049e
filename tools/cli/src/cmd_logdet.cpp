// kelvin logdet --matrix FILE [--uri URI] [--steps K] [--trajectories M] [--bennett]
//               [--timeout-s S] [--json] [-o FILE.h5]
//
// -o FILE.h5 writes a run file (docs/run-files.md): /data/A; the estimate is in the summary.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "kelvin/runtime/logdet.hpp"
#include "kelvin/runtime/logdet_estimators.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/cli/options.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"
#include "run_file_output.hpp"

namespace kelvin::tools::cli {

Command add_logdet_command(CLI::App& app) {
  struct Options {
    CommonOptions common;
    std::string matrix;
    bool bennett = false;
    std::string output;
    runtime::LogdetOptions logdet;
  };
  auto options = std::make_shared<Options>();

  CLI::App* command = app.add_subcommand(
      "logdet", "Estimate log det A on a resonator board (Jarzynski over a coupling ramp)");
  add_uri_option(*command, options->common);
  command->add_option("--matrix", options->matrix, "A: text or .npy file, N x N (SPD)")->required();
  command->add_option("--steps", options->logdet.steps, "Switches of the ramp from diag(A) to A")
      ->capture_default_str();
  command
      ->add_option("--trajectories", options->logdet.trajectories,
                   "Trajectories per direction (the stderr falls as 1/sqrt of this)")
      ->capture_default_str();
  command->add_flag("--bennett", options->bennett,
                    "Also run the reverse ramp and report Bennett's acceptance ratio (twice "
                    "the board time; its error bar holds on short ramps, where the forward "
                    "estimate's does not)");
  add_symmetry_tolerance_option(*command, options->logdet.symmetry_tolerance);
  add_calibration_option(*command, options->logdet.calibration);
  add_timeout_option(*command, options->common, runtime::LogdetOptions{}.timeout, "the whole job");
  add_json_flag(*command, options->common, "\"logdet\", \"stderr\", \"summary\", \"energy\"");
  add_run_file_option(*command, options->output);
  command->footer(addresses_footer("Files: text or NumPy .npy, as for 'kelvin solve'.\n"));

  return {command, [options] {
            const Eigen::MatrixXd a = matrix_io::read_matrix(options->matrix);
            runtime::LogdetOptions logdet = options->logdet;
            logdet.timeout = options->common.timeout();
            if (options->bennett)
              logdet.estimator = runtime::LogdetEstimator::kBennett;
            validate_usage(logdet, "logdet");
            driver::ResonatorBoard board = open_resonator_board(options->common.uri);
            RunRecord record{"logdet", options->common.uri, board.description()};
            record.settings = Json{{"matrix_file", options->matrix},
                                   {"steps", logdet.steps},
                                   {"trajectories", logdet.trajectories},
                                   {"bennett", options->bennett}};
            auto file = open_run_file_if(options->output, record);
            const auto result =
                recording_failure(file, [&] { return runtime::logdet(board, a, logdet); });
            const Json json{{"logdet", result.logdet},
                            {"stderr", result.standard_error},
                            {"summary", summary_json(result.summary)},
                            {"energy", energy_json(result.summary.energy)}};
            if (file) {
              write_data(*file, "A", a);
              finish_run_file(*file, json);
            }
            if (options->common.json)
              return write_json(json);
            // The forward estimate's error bar is not a standard error when the weights'
            // tail is heavy (logdet.hpp): say so next to it, not only in the warnings.
            const auto& s = result.summary;
            const bool heavy =
                !s.has_reverse && s.tail_shape && *s.tail_shape > runtime::kInfiniteVarianceShape;
            return fmt::format("log det A = {:.10g} +- {:.3g} ({}{})\n\n{}", result.logdet,
                               result.standard_error, s.estimator,
                               heavy ? "; heavy tail: not a standard error, see the warning" : "",
                               s.full_report());
          }};
}

}  // namespace kelvin::tools::cli
