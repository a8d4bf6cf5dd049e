// kelvin solve --matrix FILE --rhs FILE [--uri URI] [--json] [--batches N]
//              [--batch-relaxation-times T] [--timeout-s S] [--tolerance R]
//              [--preconditioning auto|jacobi|none] [--symmetry-tolerance TOL] [-o FILE.h5]
//
// FILE is text, .npy or Matrix Market (.mtx, coordinate real/integer, general/symmetric). A Matrix
// Market A is read sparse, so that a system far larger than the board never becomes dense; the
// runtime chooses the direct or the block solve (solve.hpp). -o FILE.h5 writes a run file
// (docs/run-files.md): /data/x, /data/stderr, /data/b and a dense A as /data/A.
#include <iterator>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "kelvin/runtime/solve.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/cli/options.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"
#include "run_file_output.hpp"
#include "solution_output.hpp"

namespace kelvin::tools::cli {

Command add_solve_command(CLI::App& app) {
  struct Options {
    CommonOptions common;
    std::string matrix;
    std::string rhs;
    std::string output;
    runtime::SolveOptions solve;
  };
  auto options = std::make_shared<Options>();

  CLI::App* command = app.add_subcommand(
      "solve", "Solve A x = b (A symmetric positive definite) on a resonator board");
  add_uri_option(*command, options->common);
  command
      ->add_option("--matrix", options->matrix, "A: text, .npy or Matrix Market (.mtx) file, n x n")
      ->required();
  command->add_option("--rhs", options->rhs, "b: text or .npy file, n values")->required();
  add_preconditioning_option(*command, options->solve.preconditioning);
  add_symmetry_tolerance_option(*command, options->solve.symmetry_tolerance);
  add_calibration_option(*command, options->solve.calibration);
  add_json_flag(*command, options->common, "\"x\", \"stderr\", \"summary\", \"residual\"");
  add_run_file_option(*command, options->output);
  command->add_option(
      "--batches", options->solve.batches,
      "Averaging runs per solve; their spread gives the standard error (default 20; "
      "4 per block for systems larger than the board)");
  command->add_option(
      "--batch-relaxation-times", options->solve.batch_relaxation_times,
      "Length of each run in relaxation times; error ~ 1/sqrt(batches * length) (default 100; "
      "25 per block)");
  add_timeout_option(*command, options->common, runtime::SolveOptions{}.timeout,
                     "the whole solve (programming, runs, reads)");
  add_tolerance_option(*command, options->solve.tolerance,
                       "Systems larger than the board: stop at this relative residual");
  command->footer(addresses_footer(
      "Systems with more unknowns than the board has cells are solved by block-Jacobi\n"
      "preconditioned conjugate gradients, the blocks on the board (docs/architecture.md).\n"
      "Files: text (numbers separated by spaces or commas, one row per line, '#' comments) or\n"
      "NumPy .npy (<f8, <f4, <i8, <i4) or, for A, Matrix Market (coordinate real/integer,\n"
      "general/symmetric; read sparse). b may be a column, a row, or a 1-D array.\n"));

  return {command, [options] {
            // Matrix Market is read sparse, so that a large A never becomes dense.
            const bool sparse = matrix_io::is_matrix_market_file(options->matrix);
            Eigen::SparseMatrix<double> sparse_a;
            Eigen::MatrixXd a;
            if (sparse)
              sparse_a = matrix_io::read_sparse_matrix(options->matrix);
            else
              a = matrix_io::read_matrix(options->matrix);
            const Eigen::VectorXd b = matrix_io::read_vector(options->rhs);
            runtime::SolveOptions solve = options->solve;
            solve.timeout = options->common.timeout();
            validate_usage(solve, "solve");
            driver::ResonatorBoard board = open_resonator_board(options->common.uri);
            RunRecord record{"solve", options->common.uri, board.description()};
            record.settings =
                Json{{"matrix_file", options->matrix},
                     {"rhs_file", options->rhs},
                     {"batches", optional_json(solve.batches)},
                     {"batch_relaxation_times", optional_json(solve.batch_relaxation_times)},
                     {"tolerance", solve.tolerance},
                     {"symmetry_tolerance", solve.symmetry_tolerance}};
            auto file = open_run_file_if(options->output, record);
            const runtime::SolveResult result = recording_failure(file, [&] {
              return sparse ? runtime::solve(board, sparse_a, b, solve)
                            : runtime::solve(board, a, b, solve);
            });
            const Json json = solve_result_json(result);
            if (file) {
              if (!sparse)
                write_data(*file, "A", a);
              write_data(*file, "b", b);
              write_data(*file, "x", result.x);
              if (result.standard_error.size() > 0)
                write_data(*file, "stderr", result.standard_error);
              finish_run_file(*file, json);
            }
            if (options->common.json)
              return write_json(json);
            return solution_text(result);
          }};
}

}  // namespace kelvin::tools::cli
