// A program outside kelvin's tree, built against an installed kelvin (tests/install): it opens an
// emulated resonator board through the registry of built-in backends, solves a small symmetric
// positive definite system on it and compares the answer with Eigen's digital solve.
#include <cstdio>

#include <Eigen/Dense>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/solve.hpp"

int main() {
  kelvin::driver::ResonatorBoard board(
      kelvin::driver::backends::open("sim:resonator?cells=4&seed=1"));
  Eigen::MatrixXd a(4, 4);
  a << 4, -1, 0, 0,  //
      -1, 4, -1, 0,  //
      0, -1, 4, -1,  //
      0, 0, -1, 4;
  const Eigen::VectorXd b = Eigen::Vector4d(1, 2, 3, 4);
  const kelvin::runtime::SolveResult result = kelvin::runtime::solve(board, a, b);
  const Eigen::VectorXd exact = a.ldlt().solve(b);
  // The error bars of the default solve (20 batch means) are a few tenths of a percent, and the
  // emulated board is seeded, so 5% only fails when the installed tree is broken.
  const double error = (result.x - exact).norm() / exact.norm();
  std::printf("%s\n", result.summary.brief_report().c_str());
  for (Eigen::Index i = 0; i < result.x.size(); ++i)
    std::printf("x[%td] = %.4f +- %.4f (exact %.4f)\n", i, result.x[i], result.standard_error[i],
                exact[i]);
  std::printf("relative error %.2e: %s\n", error, error < 0.05 ? "ok" : "FAILED");
  return error < 0.05 ? 0 : 1;
}
