// PbitModel's update of a p-bit with injected noisy or offset defects (board_defects.hpp).
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

}  // namespace kelvin::sim_backend
