#include "kelvin/sim_backend/board_imperfections.hpp"

#include <cmath>
#include <stdexcept>

#include <Random123/philox.h>
#include <fmt/format.h>

namespace kelvin::sim_backend {
namespace {

constexpr std::uint32_t kImperfectionStream = 0x494D5046;  // "IMPF"

enum Quantity : std::uint32_t {
  kResistance = 0,
  kCapacitance = 1,
  kNoise = 2,
  kAdcOffset = 3,
  kAdcGain = 4,
  kCouplingGain = 5,
  kSigmoidGain = 6,
  kSigmoidOffset = 7,
};

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// Uniform in [-1, 1) for (cell, quantity), 53-bit resolution.
double symmetric_uniform(std::uint64_t key, std::uint32_t cell, Quantity quantity) {
  r123::Philox4x32 philox;
  const r123::Philox4x32::key_type k = {
      {static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32)}};
  const r123::Philox4x32::ctr_type c = {{cell, quantity, 0, kImperfectionStream}};
  const auto out = philox(c, k);
  const std::uint64_t bits = (static_cast<std::uint64_t>(out[0]) << 32) | out[1];
  return 2.0 * (static_cast<double>(bits >> 11) * 0x1.0p-53) - 1.0;
}

}  // namespace

void ImperfectionModel::validate() const {
  const double relative[] = {resistance, capacitance, noise, adc_gain, coupling_dac_gain};
  for (double s : relative) {
    if (!(s >= 0.0 && s < 0.5)) {
      throw std::invalid_argument(
          fmt::format("relative imperfection spread {} is outside [0, 0.5)", s));
    }
  }
  if (!(adc_offset_codes >= 0.0) || !std::isfinite(adc_offset_codes)) {
    throw std::invalid_argument(fmt::format("ADC offset spread {} is invalid", adc_offset_codes));
  }
}

BoardImperfections draw_imperfections(const std::string& serial, std::uint32_t cells,
                                      const ImperfectionModel& model) {
  model.validate();
  const std::uint64_t key = fnv1a(serial);
  const auto n = static_cast<Eigen::Index>(cells);
  BoardImperfections out;
  out.resistance_scale.resize(n);
  out.capacitance_scale.resize(n);
  out.noise_scale.resize(n);
  out.adc_offset_codes.resize(n);
  out.adc_gain.resize(n);
  for (std::uint32_t i = 0; i < cells; ++i) {
    const auto e = static_cast<Eigen::Index>(i);
    out.resistance_scale(e) = 1.0 + model.resistance * symmetric_uniform(key, i, kResistance);
    out.capacitance_scale(e) = 1.0 + model.capacitance * symmetric_uniform(key, i, kCapacitance);
    out.noise_scale(e) = 1.0 + model.noise * symmetric_uniform(key, i, kNoise);
    out.adc_offset_codes(e) = model.adc_offset_codes * symmetric_uniform(key, i, kAdcOffset);
    out.adc_gain(e) = 1.0 + model.adc_gain * symmetric_uniform(key, i, kAdcGain);
  }
  out.coupling_dac_gain = 1.0 + model.coupling_dac_gain * symmetric_uniform(key, 0, kCouplingGain);
  return out;
}

void PbitImperfectionModel::validate() const {
  if (!(sigmoid_gain >= 0.0 && sigmoid_gain < 0.5)) {
    throw std::invalid_argument(
        fmt::format("sigmoid gain spread {} is outside [0, 0.5)", sigmoid_gain));
  }
  if (!(sigmoid_offset >= 0.0) || !std::isfinite(sigmoid_offset))
    throw std::invalid_argument(fmt::format("sigmoid offset spread {} is invalid", sigmoid_offset));
}

PbitImperfections draw_pbit_imperfections(const std::string& serial, std::uint32_t nodes,
                                          const PbitImperfectionModel& model) {
  model.validate();
  const std::uint64_t key = fnv1a(serial);
  PbitImperfections out;
  out.sigmoid_gain.resize(nodes);
  out.sigmoid_offset.resize(nodes);
  for (std::uint32_t i = 0; i < nodes; ++i) {
    out.sigmoid_gain[i] = 1.0 + model.sigmoid_gain * symmetric_uniform(key, i, kSigmoidGain);
    out.sigmoid_offset[i] = model.sigmoid_offset * symmetric_uniform(key, i, kSigmoidOffset);
  }
  return out;
}

}  // namespace kelvin::sim_backend
