// kelvin natgrad --fisher FILE --grad FILE [--uri URI] [--damping L] [--time T] [--repeats R]
//                [--preconditioning auto|jacobi|none] [--timeout-s S] [--json]
#include <iterator>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "kelvin/runtime/natural_gradient.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/cli/options.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"

namespace kelvin::tools::cli {
namespace {

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
    CommonOptions common;
    std::string fisher;
    std::string grad;
    runtime::NaturalGradientOptions natgrad;
  };
  auto options = std::make_shared<Options>();

  CLI::App* command = app.add_subcommand(
      "natgrad", "Estimate the natural gradient (F + lambda I)^-1 g on a resonator board");
  add_uri_option(*command, options->common);
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
  add_timeout_option(*command, options->common, runtime::NaturalGradientOptions{}.timeout,
                     "the whole estimate");
  add_json_flag(*command, options->common, "\"estimate\", \"stderr\", \"summary\"");
  command->footer(addresses_footer("Files: text or NumPy .npy, as for 'kelvin solve'.\n"));

  return {command, [options] {
            const Eigen::MatrixXd f = matrix_io::read_matrix(options->fisher);
            const Eigen::VectorXd g = matrix_io::read_vector(options->grad);
            runtime::NaturalGradientOptions natgrad = options->natgrad;
            natgrad.timeout = options->common.timeout();
            validate_usage(natgrad, "natgrad");
            driver::ResonatorBoard board = open_resonator_board(options->common.uri);
            runtime::NaturalGradientEstimator estimator(board, natgrad);
            const auto result = estimator.estimate(g, f);
            if (options->common.json) {
              return write_json(Json{{"estimate", vector_json(result.estimate)},
                                     {"stderr", vector_json(result.standard_error)},
                                     {"summary", summary_json(result.summary)},
                                     {"energy", energy_json(result.summary.energy)}});
            }
            return estimate_text(result);
          }};
}

}  // namespace kelvin::tools::cli
