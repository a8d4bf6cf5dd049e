// The energy ledger: modelled energy of a job on a resonator board, by component, from
// per-operation constants, next to the estimated energy of a GPU doing the same work digitally.
// The numbers are a model, not a measurement: each constant and its source is listed in
// docs/energy.md, and a caller may replace any of them (EnergyModel is a plain struct).
//
// Thread contract: plain value types and pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/report.hpp"

namespace kelvin::runtime {

// Joules per operation. Defaults and their sources: docs/energy.md.
struct EnergyModel {
  // Analog dynamics, per cell per microsecond of integration: the cell's resistor dissipates
  // <v^2> / R; at 1 V rms across R = 1 kOhm that is 1 mW, so 1 nJ per cell-microsecond.
  double analog_per_cell_us = 1e-9;
  // One DAC code written (16-bit precision DAC, about 1 mW at 1 MS/s: 1 nJ per update).
  double dac_per_code = 1e-9;
  // One ADC conversion (Walden figure of merit 10 fJ per step at 14 effective bits:
  // 10 fJ x 2^14 = 164 pJ).
  double adc_per_conversion = 1.64e-10;
  // One byte over the host link (USB 2.0 high speed, about 0.5 W of PHY and controller power at
  // 40 MB/s: 12.5 nJ per byte).
  double io_per_byte = 1.25e-8;
  // One floating-point operation on the host CPU (about 100 pJ per double-precision FLOP for a
  // scalar core).
  double host_per_flop = 1e-10;
  // One FLOP on a GPU doing the same job digitally: H100 at TDP, about 10 pJ per FP32 FLOP, a
  // lower bound on real workloads (NVIDIA H100 datasheet at TDP; docs/energy.md).
  double gpu_per_flop = 1e-11;

  // p-bit boards (Extropic's X0/Z1 figures, DTM paper arXiv 2510.23972; docs/energy.md): one node
  // update in a Gibbs sweep (E_cell, about 2 fJ), one node value read out (Z1: 1.69 pJ per read),
  // one weight/bias/beta code written (Z1: 153.6 pJ per write).
  double pbit_per_update = 2e-15;
  double pbit_per_read = 1.69e-12;
  double pbit_per_write = 153.6e-12;
  // GPU FLOPs per node update done digitally: a multiply-add per neighbour, the sigmoid and a
  // random number (about 30 FLOPs besides the 2 per neighbour).
  double gpu_flops_per_pbit_update_base = 30.0;
};

struct EnergyLedger {
  double analog_j = 0.0;
  double dac_j = 0.0;
  double adc_j = 0.0;
  double io_j = 0.0;
  double host_j = 0.0;
  // The counts behind them.
  driver::BoardActivity activity;
  std::uint64_t io_bytes = 0;
  double host_flops = 0.0;
  // The same job done digitally on a GPU: its FLOPs and their energy.
  double gpu_flops = 0.0;
  double gpu_j = 0.0;

  double total_j() const noexcept { return analog_j + dac_j + adc_j + io_j + host_j; }
  // "12.3 uJ (analog 10 uJ, DAC 1 uJ, ADC 0.2 uJ, I/O 1 uJ, host 0.1 uJ); GPU 3 nJ"
  std::string brief() const;
  // Every component and count, and "brief" (report.hpp).
  ReportFields fields() const;
};

// FLOP models the jobs' ledgers share.
namespace flops {
// Host work of a dense job on n unknowns with k batches (or repeats): the positive-definiteness
// check and one more Cholesky (n^3/3 each), the spectrum for the scaling (about 4n^3/3), and
// about 10 n^2 per batch: 2 n^3 + 10 n^2 k.
double dense_job_host(double n, double k);
// A GPU solving the same n x n SPD system digitally: a Cholesky solve, n^3/3 + 2 n^2.
double cholesky_solve(double n);
}  // namespace flops

// Ledger from the board activity and link bytes of a job (differences of before/after
// snapshots), the host's FLOPs, and the FLOPs of a digital GPU doing the same job.
EnergyLedger make_ledger(const driver::BoardActivity& activity, double sample_period_s,
                         std::uint64_t io_bytes, double host_flops, double gpu_flops,
                         const EnergyModel& model = {});

// What a p-bit job did, for its ledger. node_updates and values_read count what the board does:
// it sweeps every unclamped lattice node of every chain, whether the model uses it or not (a
// 3-node model on a 70 x 70 lattice still sweeps 4,900 nodes). The GPU comparison counts the
// digital work of the same sampling: the updates of the nodes that matter (the model's) and
// the couplings each of them reads (2 per model edge per sweep per chain).
struct PbitWork {
  std::uint64_t node_updates = 0;
  std::uint64_t codes_written = 0;
  std::uint64_t values_read = 0;
  std::uint64_t io_bytes = 0;
  std::uint64_t gpu_node_updates = 0;
  std::uint64_t gpu_coupling_reads = 0;
};

// Ledger of a p-bit sampling job. The fields map as: analog_j = node updates (the stochastic
// dynamics), dac_j = codes written, adc_j = node values read out, io_j = link bytes; the GPU
// comparison costs gpu_flops_per_pbit_update_base per GPU node update and 2 FLOPs (a
// multiply-add) per coupling read.
EnergyLedger make_pbit_ledger(const PbitWork& work, const EnergyModel& model = {});
// The same with the GPU doing every board node update, each reading `degree` couplings.
EnergyLedger make_pbit_ledger(std::uint64_t node_updates, std::uint64_t codes_written,
                              std::uint64_t values_read, std::uint64_t io_bytes,
                              std::uint32_t degree, const EnergyModel& model = {});

// Snapshot of a board's counters, for ledgers of jobs that use it.
struct BoardSnapshot {
  driver::BoardActivity activity;
  std::uint64_t io_bytes = 0;
  static BoardSnapshot of(driver::ResonatorBoard& board);
};

// Ledger of the work done on `board` since `before`.
EnergyLedger ledger_since(driver::ResonatorBoard& board, const BoardSnapshot& before,
                          double host_flops, double gpu_flops, const EnergyModel& model = {});

}  // namespace kelvin::runtime
