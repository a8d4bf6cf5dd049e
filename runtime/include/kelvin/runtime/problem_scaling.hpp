// Compiles a linear system into a resonator board's ranges, and maps results back.
//
// User units: A x = b. Device units: A_dev [1/us] x_dev [V] = b_dev [V/us], with
//   A_dev = a * A                (coupling_scale a: the largest |A_ij| lands on the DAC's end code)
//   x     = s * x_dev            (state_scale s: the solution's bound ||b||/lambda_min(A) uses
//                                 mean_fraction of the ADC half-range)
//   b_dev = a * b / s
// and the noise D [V^2/us] such that noise_sigmas standard deviations of the widest cell,
// sqrt(D / lambda_min(A_dev)), fit between the mean's bound and the ADC rail. Every value is
// then rounded to its DAC code; the quantization errors are reported, not hidden.
//
// Cells beyond the system's size are decoupled (diagonal only, bias 0): they relax to 0.
//
// Thread contract: pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"

namespace kelvin::runtime {

struct ScalingTargets {
  double mean_fraction = 0.5;  // of the ADC half-range, for the solution's bound
  double noise_sigmas = 4.0;   // noise standard deviations between the bound and the rail
};

// One set of DAC codes and the system it realizes.
struct ProgrammedSystem {
  driver::SymmetricCodes couplings{0};
  std::vector<std::int16_t> bias_codes;  // one per cell
  // The realized system back in user units (first n rows): A_q / a and s * b_q / a.
  Eigen::MatrixXd matrix;
  Eigen::VectorXd rhs;
};

struct CompiledSystem {
  double coupling_scale = 0.0;  // a
  double state_scale = 0.0;     // s
  std::uint32_t noise_code = 0;
  double diffusion = 0.0;  // D actually programmed (quantized) [V^2/us]

  // Exact (unrounded) device values for all cells, spare cells included.
  Eigen::MatrixXd device_matrix;  // [1/us]
  Eigen::VectorXd device_rhs;     // [V/us]

  // Round-to-nearest codes, and the spectrum of the matrix they realize [1/us].
  ProgrammedSystem nearest;
  double device_lambda_min = 0.0;
  double device_lambda_max = 0.0;

  double matrix_quantization_error = 0.0;  // ||A - A_nearest||_F / ||A||_F
  double bias_quantization_error = 0.0;    // ||b - b_nearest|| / ||b|| (0 when b = 0)
};

// Throws common::Error(kNotSupported) if n exceeds the cells or the quantized matrix is not
// positive definite, kInvalidArgument for bad targets.
CompiledSystem compile_system(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                              const driver::DeviceDescription& board,
                              const ScalingTargets& targets);

// Re-scales the right-hand side only (a new state_scale), keeping couplings and noise. Used by
// auto-ranging once a pilot run has measured how much of the range the solution really uses.
// The new scale is clamped so that the bias codes stay inside the bias DAC.
void rescale_rhs(CompiledSystem& system, const Eigen::VectorXd& b,
                 const driver::DeviceDescription& board, double new_state_scale);

// Randomized rounding (error mitigation, Aifer et al. arXiv 2401.16231): each value rounds up
// with probability equal to its fractional part in codes, so the codes are unbiased. Averaged
// over independently rounded batches, first-order rounding errors cancel, and what remains
// shows in the spread of the batch means. If a draw leaves the matrix indefinite (possible
// only for matrices near the quantization floor) the nearest codes are returned instead.
ProgrammedSystem round_randomly(const CompiledSystem& system, Eigen::Index unknowns,
                                const driver::DeviceDescription& board, std::uint64_t& rng_state);

}  // namespace kelvin::runtime
