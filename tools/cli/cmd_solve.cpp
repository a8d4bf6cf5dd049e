// kelvin solve --matrix FILE --rhs FILE [--uri URI] [--json] [--batches N]
//              [--batch-relaxation-times T] [--timeout-s S]
#include <chrono>
#include <exception>
#include <iterator>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli.hpp"
#include "kelvin/driver/backends.hpp"
#include "kelvin/tools/matrix_io.hpp"

namespace kelvin::cli {
namespace {

std::string solution_text(const runtime::SolveResult& result) {
  // Ten significant digits are more than any board run resolves; --json has every digit.
  std::string out = fmt::format("{:>5}  {:>18}  {:>10}\n", "i", "x", "stderr");
  for (Eigen::Index i = 0; i < result.x.size(); ++i) {
    fmt::format_to(std::back_inserter(out), "{:>5}  {:>18.10g}  {:>10.3g}\n", i, result.x(i),
                   result.standard_error(i));
  }
  out += "\n";
  out += result.summary.full_report();
  if (!out.empty() && out.back() != '\n')
    out += "\n";
  return out;
}

}  // namespace

Command add_solve_command(CLI::App& app) {
  struct Options {
    std::string uri;
    std::string matrix;
    std::string rhs;
    bool json = false;
    runtime::SolveOptions solve;
    double timeout_s = 0.0;
  };
  auto options = std::make_shared<Options>();
  options->timeout_s = std::chrono::duration<double>(options->solve.timeout).count();

  CLI::App* command = app.add_subcommand(
      "solve", "Solve A x = b (A symmetric positive definite) on a resonator board");
  add_uri_option(*command, options->uri);
  command->add_option("--matrix", options->matrix, "A: text or .npy file, n x n")->required();
  command->add_option("--rhs", options->rhs, "b: text or .npy file, n values")->required();
  command->add_flag("--json", options->json,
                    "Print one JSON object {\"x\", \"stderr\", \"summary\"} instead of text");
  command
      ->add_option("--batches", options->solve.batches,
                   "Averaging runs; their spread gives the standard error")
      ->capture_default_str();
  command
      ->add_option("--batch-relaxation-times", options->solve.batch_relaxation_times,
                   "Length of each run in relaxation times; error ~ 1/sqrt(batches * length)")
      ->capture_default_str();
  command
      ->add_option("--timeout-s", options->timeout_s,
                   "Deadline for the whole solve (programming, runs, reads), in seconds")
      ->check(CLI::Range(1e-3, 1e7))
      ->capture_default_str();
  command->footer(fmt::format(
      "Files: text (numbers separated by spaces or commas, one row per line, '#' comments) or\n"
      "NumPy .npy (<f8, <f4, <i8, <i4). b may be a column, a row, or a 1-D array.\n"
      "Device addresses:\n  {}",
      driver::kSimUriHelp));

  return {command, [options] {
            const Eigen::MatrixXd a = tools::read_matrix(options->matrix);
            const Eigen::VectorXd b = tools::read_vector(options->rhs);
            runtime::SolveOptions solve_options = options->solve;
            solve_options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::duration<double>(options->timeout_s));
            try {
              solve_options.validate();
            } catch (const std::exception& e) {
              throw UsageError(fmt::format("{} (see 'kelvin solve --help')", e.what()));
            }

            driver::ResonatorBoard board = open_resonator_board(options->uri);
            const runtime::SolveResult result = runtime::solve(board, a, b, solve_options);
            if (options->json)
              return dump_json(solve_result_json(result));
            return solution_text(result);
          }};
}

}  // namespace kelvin::cli
