#include "kelvin/runtime/damped_ggn.hpp"

#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/system_checks.hpp"
#include "option_checks.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

DampedGgn::DampedGgn(Eigen::MatrixXd J, Eigen::MatrixXd H, double damping,
                     double symmetry_tolerance)
    : j_(std::move(J)), h_(std::move(H)), damping_(damping) {
  detail::check_symmetry_tolerance(detail::OptionChecks("DampedGgn"), symmetry_tolerance);
  if (j_.size() == 0)
    throw Error(ErrorKind::kInvalidArgument, "GGN: J is empty");
  if (h_.rows() != j_.rows() || h_.cols() != j_.rows()) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("GGN factors do not fit: J is {}x{}, so H must be {}x{}, but it is {}x{}",
                    j_.rows(), j_.cols(), j_.rows(), j_.rows(), h_.rows(), h_.cols()));
  }
  if (!j_.allFinite() || !h_.allFinite())
    throw Error(ErrorKind::kInvalidArgument, "GGN: J or H has a non-finite entry");
  check_symmetric(h_, symmetry_tolerance, "H", "GGN: H");
  h_ = (0.5 * (h_ + h_.transpose())).eval();
  if (!(damping_ >= 0.0) || !std::isfinite(damping_))
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("GGN: damping = {} (finite, >= 0)", damping_));
}

Eigen::VectorXd DampedGgn::operator*(const Eigen::VectorXd& p) const {
  return j_.transpose() * (h_ * (j_ * p)) + damping_ * p;
}

Eigen::MatrixXd DampedGgn::diagonal_block(Eigen::Index start, Eigen::Index size) const {
  const auto jb = j_.middleCols(start, size);
  Eigen::MatrixXd block = jb.transpose() * h_ * jb;
  block = 0.5 * (block + block.transpose());  // exactly symmetric for the board
  block.diagonal().array() += damping_;
  return block;
}

double DampedGgn::product_flops() const noexcept {
  const double m = static_cast<double>(j_.rows());
  const double n = static_cast<double>(j_.cols());
  return 4.0 * m * n + 2.0 * m * m + 2.0 * n;
}

}  // namespace kelvin::runtime
