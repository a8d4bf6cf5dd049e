// kelvin solve --matrix FILE --rhs FILE [--uri URI] [--json] [--batches N]
//              [--batch-relaxation-times T] [--timeout-s S] [--tolerance R]
//              [--preconditioning auto|jacobi|none]
//
// FILE is text, .npy or Matrix Market (.mtx, coordinate real/integer, general/symmetric). A Matrix
// Market A is read sparse: with more unknowns than the board's cells it stays sparse for the block
// solve (so 10,000+ unknowns fit in memory); otherwise it is made dense for the direct solve.
#include <chrono>
#include <exception>
#include <iterator>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/block_solve.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"

namespace kelvin::tools::cli {

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

double relative_residual(const Eigen::MatrixXd& a, const Eigen::VectorXd& b,
                         const Eigen::VectorXd& x) {
  const double norm = b.norm();
  return norm > 0.0 ? (b - a * x).norm() / norm : (a * x).norm();
}

nlohmann::ordered_json block_summary_json(const runtime::BlockSolveSummary& s) {
  return {{"brief", s.brief_report()},
          {"unknowns", s.unknowns},
          {"block_size", s.block_size},
          {"blocks", s.blocks},
          {"backend", s.backend},
          {"iterations", s.iterations},
          {"converged", s.converged},
          {"relative_residual", s.relative_residual},
          {"residual_history", s.residual_history},
          {"block_solves", s.block_solves},
          {"device_time_s", s.device_time_s},
          {"wall_time_s", s.wall_time_s}};
}

std::string block_solution_text(const runtime::BlockSolveResult& result) {
  std::string out = fmt::format("{:>5}  {:>18}\n", "i", "x");
  for (Eigen::Index i = 0; i < result.x.size(); ++i)
    fmt::format_to(std::back_inserter(out), "{:>5}  {:>18.10g}\n", i, result.x(i));
  return out + "\n" + result.summary.full_report();
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
    double tolerance = 1e-3;
  };
  auto options = std::make_shared<Options>();
  options->timeout_s = std::chrono::duration<double>(options->solve.timeout).count();

  CLI::App* command = app.add_subcommand(
      "solve", "Solve A x = b (A symmetric positive definite) on a resonator board");
  add_uri_option(*command, options->uri);
  command
      ->add_option("--matrix", options->matrix, "A: text, .npy or Matrix Market (.mtx) file, n x n")
      ->required();
  command->add_option("--rhs", options->rhs, "b: text or .npy file, n values")->required();
  add_preconditioning_option(*command, options->solve.preconditioning);
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
  command
      ->add_option("--tolerance", options->tolerance,
                   "Systems larger than the board: stop at this relative residual")
      ->check(CLI::Range(1e-12, 0.5))
      ->capture_default_str();
  command->footer(fmt::format(
      "Systems with more unknowns than the board has cells are solved by block-Jacobi\n"
      "preconditioned conjugate gradients, the blocks on the board (docs/architecture.md).\n"
      "Files: text (numbers separated by spaces or commas, one row per line, '#' comments) or\n"
      "NumPy .npy (<f8, <f4, <i8, <i4) or, for A, Matrix Market (coordinate real/integer,\n"
      "general/symmetric; read sparse). b may be a column, a row, or a 1-D array.\n"
      "Device addresses:\n  {}",
      driver::backends::uri_help()));

  return {command, [options] {
            // Matrix Market is read sparse, so that a large A never becomes dense.
            const bool sparse_file = tools::matrix_io::is_matrix_market_file(options->matrix);
            Eigen::SparseMatrix<double> sparse_a;
            Eigen::MatrixXd a;
            if (sparse_file)
              sparse_a = tools::matrix_io::read_sparse_matrix(options->matrix);
            else
              a = tools::matrix_io::read_matrix(options->matrix);
            const Eigen::VectorXd b = tools::matrix_io::read_vector(options->rhs);
            runtime::SolveOptions solve_options = options->solve;
            solve_options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::duration<double>(options->timeout_s));
            try {
              solve_options.validate();
            } catch (const std::exception& e) {
              throw UsageError(fmt::format("{} (see 'kelvin solve --help')", e.what()));
            }

            driver::ResonatorBoard board = open_resonator_board(options->uri);
            const Eigen::Index n = sparse_file ? sparse_a.rows() : a.rows();
            if (n > static_cast<Eigen::Index>(board.cells())) {
              runtime::BlockSolveOptions block;
              block.tolerance = options->tolerance;
              block.timeout = solve_options.timeout;
              block.block.preconditioning = solve_options.preconditioning;
              const auto result = sparse_file ? runtime::block_solve(&board, sparse_a, b, block)
                                              : runtime::block_solve(&board, a, b, block);
              if (options->json) {
                return dump_json({{"x", vector_json(result.x)},
                                  {"residual", result.summary.relative_residual},
                                  {"summary", block_summary_json(result.summary)},
                                  {"energy", energy_json(result.summary.energy)}});
              }
              return block_solution_text(result);
            }
            if (sparse_file)
              a = Eigen::MatrixXd(sparse_a);
            const runtime::SolveResult result = runtime::solve(board, a, b, solve_options);
            if (options->json) {
              auto out = solve_result_json(result);
              out["residual"] = relative_residual(a, b, result.x);
              return dump_json(out);
            }
            return solution_text(result);
          }};
}

}  // namespace kelvin::tools::cli
