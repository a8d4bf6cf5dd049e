#include "kelvin/sim_backend/resonator_register_file.hpp"

#include <fmt/format.h>

#include "kelvin/firmware_protocol/wire_layout.hpp"
#include "kelvin/sim_backend/board_error.hpp"
#include "kelvin/sim_backend/resonator_registers.hpp"

namespace kelvin::sim_backend {

namespace reg = resonator;

ResonatorRegisters::ResonatorRegisters(std::uint32_t cells)
    : bias(Eigen::VectorXd::Zero(static_cast<Eigen::Index>(cells))),
      j4(Eigen::VectorXd::Zero(static_cast<Eigen::Index>(cells))) {}

double ResonatorRegisters::diffusion() const noexcept {
  return noise_code * reg::kNoiseLsb;
}

bool ResonatorRegisters::quartic_active() const noexcept {
  return j4.size() > 0 && (j4.array() != 0.0).any();
}

Eigen::MatrixXd coupling_matrix(std::uint32_t cells, std::span<const std::int16_t> upper_codes,
                                CouplingKind kind) {
  const auto n = static_cast<Eigen::Index>(cells);
  const bool capacitive = kind == CouplingKind::kCapacitive;
  Eigen::MatrixXd a(n, n);
  firmware_protocol::for_each_upper_triangle(
      cells, [&](std::size_t row, std::size_t column, std::size_t k) {
        const std::int16_t code = upper_codes[k];
        if (code == reg::kReservedDacCode) {
          throw BoardError(
              BoardErrorCode::kOutOfRange,
              fmt::format("coupling code {} at upper-triangle index {} (row {}, "
                          "column {}) is reserved; valid codes are [{}, {}]",
                          code, k, row, column, reg::kCouplingMinCode, reg::kCouplingMaxCode));
        }
        if (capacitive && row != column && code > 0) {
          throw BoardError(BoardErrorCode::kOutOfRange,
                           fmt::format("coupling code {} at (row {}, column {}) is positive, but "
                                       "this board's couplings are capacitive: off-diagonal "
                                       "codes must be <= 0",
                                       code, row, column));
        }
        const auto i = static_cast<Eigen::Index>(row);
        const auto j = static_cast<Eigen::Index>(column);
        a(i, j) = a(j, i) = code * reg::kCouplingLsb;
      });
  return a;
}

Eigen::VectorXd bias_vector(std::span<const std::int16_t> codes) {
  Eigen::VectorXd b(static_cast<Eigen::Index>(codes.size()));
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const std::int16_t code = codes[i];
    if (code == reg::kReservedDacCode) {
      throw BoardError(BoardErrorCode::kOutOfRange,
                       fmt::format("bias code {} at index {} is reserved; valid codes are [{}, {}]",
                                   code, i, reg::kBiasMinCode, reg::kBiasMaxCode));
    }
    b(static_cast<Eigen::Index>(i)) = code * reg::kBiasLsb;
  }
  return b;
}

std::uint32_t checked_noise_code(std::uint32_t code) {
  if (code > reg::kNoiseMaxCode) {
    throw BoardError(BoardErrorCode::kOutOfRange,
                     fmt::format("noise code {} is outside [{}, {}]", code, reg::kNoiseMinCode,
                                 reg::kNoiseMaxCode));
  }
  return code;
}

Eigen::VectorXd quartic_vector(std::span<const std::uint16_t> codes) {
  Eigen::VectorXd j4(static_cast<Eigen::Index>(codes.size()));
  for (std::size_t i = 0; i < codes.size(); ++i)
    j4(static_cast<Eigen::Index>(i)) = codes[i] * reg::kQuarticLsb;
  return j4;
}

}  // namespace kelvin::sim_backend
