// Generation on a resonator board's quartic cells (Whitelam, PRL 136, 037101 (2026); the
// reference facts' section 5): a model trained elsewhere (python/examples, contract D of issue
// 17) is a set of board codes; each generated sample
//   1. programs the uncoupled model: the diagonal of the coupling codes only, biases 0, the J4
//      codes and the noise code, and runs `uncoupled_samples` sample periods from x = 0 (thermal
//      noise in the wells: the end of the noising process);
//   2. programs the full couplings and biases and runs `coupled_samples` periods more, warm (the
//      learned dynamics, no control in time);
//   3. reads the visible cells at the end as the image (volts), and the heat the cells gave to
//      the bath during step 2, Q = V(x at switch-on) - V(x at the end), in units of kT = D.
// Board dynamics (docs/boards.md, overdamped with J4, 16 Strang substeps per 1 us sample):
//     dx = -(A x - b + 4 J4 x^3) dt + sqrt(2 D) dW,   V(x) = 1/2 x^T A x - b^T x + sum J4_i x_i^4.
// V uses the codes of the generator in physical units (the description's CodeScales: coupling
// 1/us, bias V/us, J4, D V^2/us), i.e. the quantized model the board was asked to run, and the
// states as read by the ADC (corrected by the calibration when one is applied). ADC quantization
// and clipping at the rails bias the heat; the summary warns, counts the samples with a cell at a
// rail and never folds that bias into heat_stderr_kt.
//
// Calibration (calibration/board_calibration.hpp), when applied:
//   corrected: the coupling-DAC gain g (coupling codes programmed as round(code / g), clamped to
//     the DAC range, the clamped ones counted), the read-out (volts_i = adc(code - o_i) / a_i with
//     the ADC offsets o_i and absolute ADC gains a_i under the file's convention mean a = 1, so
//     that, with the coupling correction, volts are the cells' own states), and the board-wide
//     part of the effective temperature (noise code divided by the mean of temperature_i, the
//     one noise DAC cannot do more);
//   not corrected: the per-cell capacitances c_i (they scale cell i's rate, a row of A, which a
//     symmetric coupling matrix cannot undo), the per-cell spread of the temperature around its
//     mean, and resistances; the summary lists what was and was not corrected.
// Board cells beyond the model are held at A_ii = 1/us (b = 0, J4 = 0) so they stay near 0.
// Heat stays in units of the checkpoint's own kT (its noise code), the temperature it was
// trained for.
//
// Thread contract: generate_quartic() uses the board exclusively for its duration; the value
// types and checkpoint functions are safe from any thread (distinct files).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/calibration/board_calibration.hpp"
#include "kelvin/runtime/job_summary.hpp"
#include "kelvin/runtime/report.hpp"

namespace kelvin::runtime {

// A trained quartic generator, everything in board codes.
struct QuarticGenerator {
  std::uint32_t cells = 0;                       // model cells (cells 0 .. cells-1 of the board)
  std::vector<std::int16_t> coupling_codes;      // full symmetric cells x cells, row-major
  std::vector<std::int16_t> bias_codes;          // per cell
  std::vector<std::uint16_t> quartic_codes;      // per cell (J4 >= 0)
  std::uint32_t noise_code = 0;                  // D = kT of the model
  std::vector<std::uint32_t> visible;            // cells read as the image, in pixel order
  std::uint32_t image_rows = 0, image_cols = 0;  // rows * cols == visible.size()
  std::uint64_t uncoupled_samples = 0;           // t_f: reset to 0, diagonal of A only, b = 0
  std::uint64_t coupled_samples = 0;             // t_f: full A and b switched on
  // Optional: pixel = pixel_offset + pixel_scale * volts (checkpoint "pixel_scale"); default
  // identity. notes: free text (checkpoint "notes").
  double pixel_offset = 0.0;
  double pixel_scale = 1.0;
  std::string notes;

  std::int16_t coupling(std::uint32_t i, std::uint32_t j) const {
    return coupling_codes.at(static_cast<std::size_t>(i) * cells + j);
  }
  // Sizes, symmetry, visible cells distinct and < cells, rows * cols, sample counts >= 1. Throws
  // common::Error(kInvalidArgument) naming the field ("QuarticGenerator: coupling_codes[3][5] = 7
  // but [5][3] = 6 (must be symmetric)").
  void validate() const;
  // validate() and, against the board: cells <= board cells, every code in its DAC's range, the
  // quartic capability and the J4 scale (any J4 != 0), state reset and sample record, and
  // uncoupled_samples and coupled_samples each <= max_samples_per_run and max_record_samples.
  // Throws common::Error(kInvalidArgument) (kNotSupported for a missing capability) naming the
  // field.
  void validate(const driver::DeviceDescription& board) const;
};

// The checkpoint JSON (kind "kelvin.quartic-generator", version 1; contract D of issue 17):
//   {"kind": "kelvin.quartic-generator", "version": 1, "cells": N,
//    "coupling_codes": [[...] x N] x N, "bias_codes": [...], "quartic_codes": [...],
//    "noise_code": 655, "visible": [...], "image_rows": 14, "image_cols": 14,
//    "uncoupled_samples": 25, "coupled_samples": 25,
//    "pixel_scale": {"offset": 0.0, "scale": 1.0}, "notes": "..."}   (the last two optional)
// read_* throws common::Error(kInvalidArgument) naming the file and the field (missing, wrong
// type, out of range, wrong kind or version, or a file that cannot be read) and calls
// validate(). write_* validates, then writes atomically (a temporary file renamed over `path`);
// common::Error(kInvalidArgument) naming the file if it cannot.
QuarticGenerator read_quartic_checkpoint(const std::string& path);
void write_quartic_checkpoint(const std::string& path, const QuarticGenerator& g);
// The same from / to JSON text (the Python binding's dict path); `source` names it in errors.
QuarticGenerator parse_quartic_checkpoint(const std::string& json_text, const std::string& source);
std::string quartic_checkpoint_json(const QuarticGenerator& g);

struct QuarticGenerationOptions {
  // Generated samples (images), each a fresh reset and two runs. Default 16; range 1..1000000.
  std::uint32_t samples = 16;
  // Also return every sample period of both phases (visible cells, volts). Default false.
  bool record_trajectories = false;
  // Whole job. Default 60 s; > 0.
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
  // Which calibration to apply (see the top of this file). Default: auto (the board's file if
  // there is one).
  calibration::CalibrationSelection calibration;
  void validate() const;  // common::Error(kInvalidArgument) naming the field
};

struct QuarticGenerationSummary : JobSummary {
  std::uint32_t samples = 0;
  std::uint32_t model_cells = 0;
  std::uint32_t visible = 0;
  std::uint64_t uncoupled_samples = 0;  // sample periods per generated sample, phase 1
  std::uint64_t coupled_samples = 0;    // phase 2
  std::uint32_t noise_code = 0;         // the checkpoint's
  std::uint32_t noise_code_used = 0;    // after the calibration's temperature correction
  double diffusion = 0.0;               // D = kT of the checkpoint [V^2/us]
  // Heat per generated sample: in kT (empty when the checkpoint's noise code is 0: no kT) and in
  // V^2/us (the units of D): mean, its standard error (samples - 1 degrees of freedom; 0 with
  // one sample), extremes.
  std::optional<double> heat_mean_kt;
  std::optional<double> heat_stderr_kt;
  double heat_mean = 0.0;
  double heat_stderr = 0.0;
  std::uint32_t heat_dof = 0;
  double heat_min = 0.0;
  double heat_max = 0.0;
  // First-order bound of the heat's ADC-quantization bias, mean over samples of
  // sum_i (|dV/dx_i(x_switch)| + |dV/dx_i(x_end)|) lsb / 2 [V^2/us]; not in heat_stderr.
  double heat_quantization_bound = 0.0;
  // Generated samples whose switch-on or end state had a cell at an ADC rail (the read-out and
  // the heat of those are biased), and board samples the ADC clipped in all runs.
  std::uint64_t clipped_generated = 0;
  std::uint64_t clipped_board_samples = 0;
  // Calibration: the coupling-DAC gain divided out (1 without), coupling codes clamped after
  // the division, and what was / was not corrected (empty lists without a calibration).
  double coupling_gain_correction = 1.0;
  std::uint64_t coupling_codes_clamped = 0;
  std::vector<std::string> corrected;
  std::vector<std::string> not_corrected;
  double wall_time_per_sample_s = 0.0;

  ReportFields fields() const;
  std::string brief_report() const;
  std::string full_report() const;
};

struct QuarticGenerationResult {
  std::vector<std::vector<double>> images;  // per sample, volts of the visible cells
  std::vector<double> heat_kt;              // per sample: (V(x at switch-on) - V(x end)) / D
                                            // (NaN when the noise code is 0)
  std::vector<double> heat;                 // per sample: V(x at switch-on) - V(x end) [V^2/us]
  // With record_trajectories: per sample, (uncoupled_samples + coupled_samples) x visible
  // volts, sample-major; else empty.
  std::vector<std::vector<double>> trajectories;
  QuarticGenerationSummary summary;
};

// The potential V(x) of the generator's codes in physical units (the description's scales),
// x in volts over the model's cells (x.size() == g.cells): 1/2 x^T A x - b^T x + sum J4 x^4.
double quartic_potential(const QuarticGenerator& g, const driver::DeviceDescription& board,
                         const std::vector<double>& x);

QuarticGenerationResult generate_quartic(driver::ResonatorBoard& board, const QuarticGenerator& g,
                                         const QuarticGenerationOptions& options = {});

}  // namespace kelvin::runtime
