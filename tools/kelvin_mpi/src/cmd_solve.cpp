// kelvin-mpi solve (--matrix FILE --rhs FILE | --laplacian N [--shift S])
//                  [--uri TEMPLATE | --uris A,B,...] [--tolerance R] [--block-size B]
//                  [--backend board|digital] [--calibration ...] [--timeout-s S] [--json]
//
// A x = b larger than one board, its diagonal blocks spread over the ranks' boards and the
// Krylov reductions done as MPI collectives (runtime block_solve(group, ...), block_solve.hpp).
// Every rank reads the same files (or generates the same built-in Laplacian, for scaling runs:
// matrix_io/generated_problems.hpp) and opens its own board. Rank 0 prints the summary (its
// board's job block and the group's scale_out block), or with --json one object {"x",
// "error_estimate", "summary"}.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/block_solve.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/kelvin_mpi/mpi_commands.hpp"
#include "kelvin/tools/matrix_io/generated_problems.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"

namespace kelvin::tools::kelvin_mpi {

namespace {

struct SolveOptions {
  RankOptions ranks;
  cli::CommonOptions common;
  std::string matrix;
  std::string rhs;
  Eigen::Index laplacian = 0;
  double shift = 0.5;
  std::string backend = "board";
  runtime::BlockSolveOptions solve;
};

std::string run(const SolveOptions& o, runtime::Collective& group) {
  runtime::BlockSolveOptions solve = o.solve;
  solve.backend =
      o.backend == "digital" ? runtime::BlockBackend::kDigital : runtime::BlockBackend::kBoard;
  solve.timeout = o.common.timeout();
  try {
    solve.validate();
  } catch (const std::exception& e) {
    throw cli::UsageError(fmt::format("{} (see 'kelvin-mpi solve --help')", e.what()));
  }
  const common::Deadline deadline = common::Deadline::after(solve.timeout);
  // Every rank reads (or generates) the problem; a file a rank cannot read fails every rank.
  Eigen::SparseMatrix<double> sparse_a;
  Eigen::MatrixXd dense_a;
  Eigen::VectorXd b;
  const bool sparse = o.laplacian > 0 || matrix_io::is_matrix_market_file(o.matrix);
  group.checked("read the problem", deadline, [&] {
    if (o.laplacian > 0) {
      sparse_a = matrix_io::laplacian_2d(o.laplacian, o.shift);
      b = matrix_io::laplacian_rhs(o.laplacian);
      return;
    }
    if (sparse)
      sparse_a = matrix_io::read_sparse_matrix(o.matrix);
    else
      dense_a = matrix_io::read_matrix(o.matrix);
    b = matrix_io::read_vector(o.rhs);
  });
  const std::string uri = rank_uri(o.ranks, group);
  std::unique_ptr<driver::ResonatorBoard> board;
  group.checked("open the board", deadline, [&] {
    board = std::make_unique<driver::ResonatorBoard>(driver::backends::open(uri));
    group.set_label(board_label(uri, board->description().serial));
  });
  const runtime::BlockSolveResult r =
      sparse ? runtime::block_solve(group, board.get(), sparse_a, b, solve)
             : runtime::block_solve(group, board.get(), dense_a, b, solve);
  if (o.common.json) {
    return cli::write_json({{"x", cli::vector_json(r.x)},
                            {"error_estimate", cli::vector_json(r.error_estimate)},
                            {"summary", cli::to_json(r.summary.fields())}});
  }
  return r.summary.full_report();
}

}  // namespace

Command add_solve_command(CLI::App& app) {
  auto o = std::make_shared<SolveOptions>();
  CLI::App* command = app.add_subcommand(
      "solve", "Solve A x = b (A SPD, larger than a board) with its blocks on every rank's board");
  add_rank_options(*command, o->ranks, "sim:resonator?cells=8&seed={rank}");
  auto* matrix = command->add_option(
      "--matrix", o->matrix, "A: text, .npy or Matrix Market (.mtx, read sparse) file, n x n");
  auto* rhs = command->add_option("--rhs", o->rhs, "b: text or .npy file, n values");
  auto* laplacian =
      command
          ->add_option("--laplacian", o->laplacian,
                       "Instead of files: the 2-D Laplacian of N unknowns plus --shift on the "
                       "diagonal (sparse), b_i = 1 + sin(i) / 2")
          ->check(CLI::Range(1, 100000000));
  matrix->needs(rhs)->excludes(laplacian);
  rhs->needs(matrix);
  command->add_option("--shift", o->shift, "The Laplacian's diagonal shift (> 0)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli::add_tolerance_option(*command, o->solve.tolerance, "Stop at this relative residual");
  command
      ->add_option("--block-size", o->solve.block_size,
                   "Unknowns per diagonal block (default: the smallest board's cells)")
      ->check(CLI::Range(1, 1 << 20));
  command->add_option("--backend", o->backend, "Where the blocks are solved")
      ->check(CLI::IsMember({"board", "digital"}))
      ->capture_default_str();
  cli::add_calibration_option(*command, o->solve.block.calibration);
  cli::add_json_flag(*command, o->common, "\"x\", \"error_estimate\", \"summary\"");
  cli::add_timeout_option(*command, o->common, runtime::BlockSolveOptions{}.timeout,
                          "the whole solve, board work and collectives");
  return {command, [o](runtime::Collective& group) {
            if (o->laplacian == 0 && o->matrix.empty())
              throw cli::UsageError("give --matrix and --rhs, or --laplacian N");
            return run(*o, group);
          }};
}

}  // namespace kelvin::tools::kelvin_mpi
