// What the block solve's engine (block_solve.cpp) needs of each kind of A it takes (dense,
// sparse, damped GGN factors), as overloads: input checks, diagonal blocks, the product's rows
// that one rank owns, a fingerprint to check that every rank passes the same A, and FLOP counts
// for the energy ledger.
//
// Thread contract: free functions on const inputs and a RowProduct built once per job; safe
// from any thread on distinct RowProducts.
#pragma once

#include <cstdint>
#include <functional>

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "kelvin/runtime/damped_ggn.hpp"

namespace kelvin::runtime::detail {

// Input checks (symmetry, sizes, finite values), throwing common::Error(kInvalidArgument). The
// GGN operator checked its factors when it was built; only g is left.
void check_system(const Eigen::MatrixXd& a, const Eigen::VectorXd& b, double tolerance);
void check_system(const Eigen::SparseMatrix<double>& a, const Eigen::VectorXd& b, double tolerance);
void check_system(const DampedGgn& a, const Eigen::VectorXd& b, double tolerance);

// The diagonal block [start, start + size) of A, dense: what a board (or Cholesky) solves.
Eigen::MatrixXd diagonal_block(const Eigen::MatrixXd& a, Eigen::Index start, Eigen::Index size);
Eigen::MatrixXd diagonal_block(const Eigen::SparseMatrix<double>& a, Eigen::Index start,
                               Eigen::Index size);
Eigen::MatrixXd diagonal_block(const DampedGgn& a, Eigen::Index start, Eigen::Index size);

// The rows [start, start + size) of A p, for a replicated p: a dense A's row block, a sparse
// A's rows copied once into row-major storage (so a rank's product costs its own nonzeros), and
// for GGN factors the whole product's segment (its factored product is cheap; every rank does
// it). A must outlive it (dense and GGN are referenced, not copied).
class RowProduct {
 public:
  RowProduct(const Eigen::MatrixXd& a, Eigen::Index start, Eigen::Index size);
  RowProduct(const Eigen::SparseMatrix<double>& a, Eigen::Index start, Eigen::Index size);
  RowProduct(const DampedGgn& a, Eigen::Index start, Eigen::Index size);
  Eigen::VectorXd operator()(const Eigen::VectorXd& p) const { return product_(p); }

 private:
  std::function<Eigen::VectorXd(const Eigen::VectorXd&)> product_;
};

// A 64-bit hash of the exact bits of the input (for GGN factors, of sizes, damping and the
// product with a fixed probe vector): equal on every rank that passes the same input.
std::uint64_t fingerprint(const Eigen::MatrixXd& a);
std::uint64_t fingerprint(const Eigen::SparseMatrix<double>& a);
std::uint64_t fingerprint(const DampedGgn& a);
std::uint64_t fingerprint(const Eigen::VectorXd& v);

// Host FLOPs of one product A p: 2 N^2 dense, 2 nnz sparse, the GGN's product_flops().
double matvec_flops(const Eigen::MatrixXd& a);
double matvec_flops(const Eigen::SparseMatrix<double>& a);
double matvec_flops(const DampedGgn& a);

// What a GPU doing the same job digitally would spend: a dense Cholesky solve (N^3/3 + 2 N^2)
// for a dense A; for a sparse A, the same preconditioned CG digitally (its iterations, two
// sparse products and a block-Jacobi application each, 2 N b FLOPs with the blocks factored once
// for N b^2 / 3), because a sparse direct factorization's fill-in depends on the pattern; for
// GGN factors, forming F (2 m N^2 + 2 m^2 N) and a Cholesky solve, as a GPU trainer would.
double gpu_flops(const Eigen::MatrixXd& a, double block, int iterations);
double gpu_flops(const Eigen::SparseMatrix<double>& a, double block, int iterations);
double gpu_flops(const DampedGgn& a, double block, int iterations);

}  // namespace kelvin::runtime::detail
