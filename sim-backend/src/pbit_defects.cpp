// PbitModel's update of a p-bit with injected noisy or offset defects (board_defects.hpp) or
// drawn sigmoid flaws (board_imperfections.hpp).
#include <algorithm>
#include <cmath>

#include "kelvin/sim_backend/board_defects.hpp"
#include "kelvin/sim_backend/pbit_model.hpp"
#include "kelvin/sim_backend/pbit_registers.hpp"

namespace kelvin::sim_backend {

std::uint32_t PbitModel::defective_threshold(std::uint8_t defects, std::uint32_t beta_code,
                                             std::int32_t h) noexcept {
  double x = 2.0 * static_cast<double>(beta_code) * static_cast<double>(h);
  if ((defects & kNoisy) != 0)
    x /= kDefectNoiseFactor;
  if ((defects & kOffset) != 0)
    x += kDefectSigmoidOffset * 256.0;
  const auto q = std::clamp<std::int64_t>(std::llround(std::clamp(x, -1e9, 1e9)),
                                          -pbit::kLutHalfRange, pbit::kLutHalfRange);
  return lut()[static_cast<std::size_t>(q + pbit::kLutHalfRange)];
}

std::uint32_t PbitModel::flawed_threshold(std::uint32_t i, std::uint32_t beta_code,
                                          std::int32_t h) const noexcept {
  double x = 2.0 * static_cast<double>(beta_code) *
             (sigmoid_gain_[i] * static_cast<double>(h) + sigmoid_offset_[i]);
  const std::uint8_t defects = node_defects_.empty() ? 0 : node_defects_[i];
  if ((defects & kNoisy) != 0)
    x /= kDefectNoiseFactor;
  if ((defects & kOffset) != 0)
    x += kDefectSigmoidOffset * 256.0;
  const auto half = static_cast<double>(pbit::kLutHalfRange);
  x = std::clamp(x, -half, half) + half;  // LUT position
  const auto k = std::min<std::size_t>(static_cast<std::size_t>(x), pbit::kLutEntries - 2);
  const double frac = x - static_cast<double>(k);
  const auto& table = lut();
  return static_cast<std::uint32_t>(
      std::llround(static_cast<double>(table[k]) +
                   frac * (static_cast<double>(table[k + 1]) - static_cast<double>(table[k]))));
}

}  // namespace kelvin::sim_backend
