// One way of programming (A, b): scaled by S (all ones: plain; diag(A)^-1/2: Jacobi), compiled to
// round-to-nearest codes, and the relative error those codes alone put into the answer. The
// problem compiler evaluates one candidate per preconditioning mode it considers and keeps the
// compiled system of the one it chooses.
//
// Thread contract: pure functions, safe from any thread.
#pragma once

#include <optional>

#include <Eigen/Core>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/runtime/problem_scaling.hpp"

namespace kelvin::runtime::detail {

struct ProgrammingCandidate {
  Eigen::MatrixXd matrix;  // S A S
  Eigen::VectorXd rhs;     // S b
  // The compiled system; empty when the codes cannot realize the matrix (indefinite after
  // rounding), and predicted_error is then +infinity.
  std::optional<CompiledSystem> system;
  // ||A_q^-1 b_q - A^-1 b|| / ||A^-1 b|| mapped back through S, or for b = 0 the same for the
  // inverse (Frobenius norm).
  double predicted_error = 0.0;
};

// A symmetric positive definite, n <= cells (the caller checked both).
ProgrammingCandidate program_scaled(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                                    const Eigen::VectorXd& s,
                                    const driver::DeviceDescription& board,
                                    const ScalingTargets& targets);

}  // namespace kelvin::runtime::detail
