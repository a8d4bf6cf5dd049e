// Component imprecision of an emulated board, drawn deterministically from its serial number, so
// that a given board always has the same flaws and calibration has something real to find
// (component imprecision is a key source of error: Aifer et al., arXiv 2401.16231; per-cell
// kappa0 r mismatch gives each cell its own effective temperature: Melanson et al.,
// arXiv 2312.04836).
//
// Every quantity is drawn uniformly in [-spread, +spread] from Philox4x32-10 keyed by the FNV-1a
// hash of the serial, counter {cell, quantity, 0, 0x494D5046 ("IMPF")}: independent of the noise
// stream and of the cell count (cell i's flaws do not change when the board has more cells).
//
// Thread contract: pure functions and plain values; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>

namespace kelvin::sim_backend {

// Spreads of the imperfections (half-widths of uniform distributions). Defaults follow the issue:
// +-1% component mismatch; the converter errors are typical of 16-bit parts.
struct ImperfectionModel {
  double resistance = 0.01;          // relative, per cell
  double capacitance = 0.01;         // relative, per cell (to ground)
  double noise = 0.01;               // relative, per cell (noise amplitude sqrt(kappa0))
  double adc_offset_codes = 8.0;     // ADC offset, in codes, per cell
  double adc_gain = 0.002;           // relative ADC gain error, per cell
  double coupling_dac_gain = 0.002;  // relative coupling-DAC gain error, whole board

  // The default spreads above.
  static ImperfectionModel typical() { return {}; }
  // A board with no flaws (all spreads 0).
  static ImperfectionModel ideal() { return {0, 0, 0, 0, 0, 0}; }
  // Throws std::invalid_argument for a negative or non-finite spread, or a relative spread >= 0.5.
  void validate() const;
};

// One board's flaws: multipliers (1 + e) and offsets, per cell.
struct BoardImperfections {
  Eigen::VectorXd resistance_scale;
  Eigen::VectorXd capacitance_scale;
  Eigen::VectorXd noise_scale;
  Eigen::VectorXd adc_offset_codes;
  Eigen::VectorXd adc_gain;
  double coupling_dac_gain = 1.0;
};

BoardImperfections draw_imperfections(const std::string& serial, std::uint32_t cells,
                                      const ImperfectionModel& model);

// A p-bit board's flaws (sim:pbit?imperfections=typical): p-bit i's sigmoid has gain g_i and an
// input offset o_i [J], so that P(s_i = +1) = sigmoid(2 beta (g_i h_i + o_i)) for local field h_i
// (pbit_registers.hpp, "Update"; docs/calibration.md). Drawn with the same keying as above
// (quantities 6 and 7), so a p-bit's flaws depend only on the serial and its index.
struct PbitImperfectionModel {
  double sigmoid_gain = 0.05;    // relative, per p-bit: g_i = 1 + e, |e| <= spread
  double sigmoid_offset = 0.10;  // J (bias lsb), per p-bit

  static PbitImperfectionModel typical() { return {}; }
  static PbitImperfectionModel ideal() { return {0, 0}; }
  bool ideal_board() const noexcept { return sigmoid_gain == 0.0 && sigmoid_offset == 0.0; }
  // Throws std::invalid_argument for a negative or non-finite spread, or a gain spread >= 0.5.
  void validate() const;
};

struct PbitImperfections {
  std::vector<double> sigmoid_gain;    // g_i
  std::vector<double> sigmoid_offset;  // o_i [J]
};

PbitImperfections draw_pbit_imperfections(const std::string& serial, std::uint32_t nodes,
                                          const PbitImperfectionModel& model);

}  // namespace kelvin::sim_backend
