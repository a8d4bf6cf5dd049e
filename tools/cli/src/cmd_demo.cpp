// kelvin demo [--uri URI] [--json]: a built-in 8 x 8 system solved on the board and digitally.
#include <cmath>
#include <iterator>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <Eigen/Dense>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/solve.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/cli/options.hpp"
#include "solution_output.hpp"

namespace kelvin::tools::cli {
namespace {

constexpr Eigen::Index kDemoSize = 8;

// Eight coupled cells on a ring: nearest neighbours coupled with alternating signs, and each
// cell also coupled to the one opposite it. Symmetric positive definite with condition number
// about 35; every entry is a short binary fraction, so it is exact in any format.
Eigen::MatrixXd demo_matrix() {
  const double diagonal[kDemoSize] = {2.0, 1.6, 2.4, 1.2, 2.2, 1.8, 1.4, 2.6};
  const double ring[kDemoSize] = {-1.125, 0.625, -0.875, 0.75, -1.0, 0.5, -0.75, 0.375};
  const double opposite[kDemoSize / 2] = {0.625, -0.5, 0.375, -0.625};
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(kDemoSize, kDemoSize);
  for (Eigen::Index i = 0; i < kDemoSize; ++i) {
    a(i, i) = diagonal[i];
    const Eigen::Index next = (i + 1) % kDemoSize;
    a(i, next) = a(next, i) = ring[i];
  }
  for (Eigen::Index i = 0; i < kDemoSize / 2; ++i) {
    a(i, i + kDemoSize / 2) = a(i + kDemoSize / 2, i) = opposite[i];
  }
  return a;
}

Eigen::VectorXd demo_rhs() {
  Eigen::VectorXd b(kDemoSize);
  b << 1.0, -0.5, 0.25, 0.8, -1.0, 0.6, -0.3, 0.4;
  return b;
}

double condition_number(const Eigen::MatrixXd& a) {
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(a, Eigen::EigenvaluesOnly);
  return eigen.eigenvalues().maxCoeff() / eigen.eigenvalues().minCoeff();
}

}  // namespace

Command add_demo_command(CLI::App& app) {
  auto options = std::make_shared<CommonOptions>();
  CLI::App* command = app.add_subcommand(
      "demo", "Solve a built-in 8 x 8 system on a board and compare with a digital solve");
  add_uri_option(*command, *options);
  add_json_flag(*command, *options,
                "\"x\", \"stderr\", \"digital\", \"z\", \"summary\", \"condition_number\"");
  command->footer(addresses_footer("The board needs at least 8 cells. "));

  return {command, [options] {
            const Eigen::MatrixXd a = demo_matrix();
            const Eigen::VectorXd b = demo_rhs();
            const double cond = condition_number(a);
            const Eigen::VectorXd digital = a.ldlt().solve(b);

            driver::ResonatorBoard board = open_resonator_board(options->uri);
            if (board.cells() < kDemoSize) {
              throw common::Error(
                  common::ErrorKind::kNotSupported,
                  fmt::format("the demo needs a board with at least {} cells; {} has {}", kDemoSize,
                              board.device().address().to_string(), board.cells()));
            }
            const runtime::SolveResult result = runtime::solve(board, a, b);
            const Eigen::VectorXd z = (result.x - digital).cwiseQuotient(result.standard_error);

            if (options->json) {
              Json out = solve_result_json(result);
              out["digital"] = vector_json(digital);
              out["z"] = vector_json(z);
              out["condition_number"] = cond;
              return write_json(out);
            }

            std::string out = fmt::format(
                "Demo: A x = b with A an {0} x {0} symmetric positive definite matrix (mixed-sign "
                "couplings,\ncondition number {1:.1f}), solved on {2}\n"
                "and digitally (Eigen LDLT, double precision).\n\n",
                kDemoSize, cond, board.device().address().to_string());
            fmt::format_to(std::back_inserter(out), "{:>9}  {:>11}  {:>9}  {:>11}  {:>12}\n",
                           "component", "board x", "stderr", "digital x", "error/stderr");
            double max_abs_z = 0.0;
            for (Eigen::Index i = 0; i < kDemoSize; ++i) {
              fmt::format_to(std::back_inserter(out),
                             "{:>9}  {:>11.6f}  {:>9.2e}  {:>11.6f}  {:>+12.2f}\n", i, result.x(i),
                             result.standard_error(i), digital(i), z(i));
              max_abs_z = std::fmax(max_abs_z, std::abs(z(i)));
            }
            out += "\n" + result.summary.brief_report() + "\n";
            fmt::format_to(std::back_inserter(out),
                           "max |error| = {:.1f} standard errors over {} components\n", max_abs_z,
                           kDemoSize);
            return out;
          }};
}

}  // namespace kelvin::tools::cli
