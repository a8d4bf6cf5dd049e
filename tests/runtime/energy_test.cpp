#include "kelvin/runtime/energy.hpp"

#include <memory>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/solve.hpp"

namespace kelvin::runtime {
namespace {

using namespace std::chrono_literals;

TEST(Energy, BoardActivityCountsCodesConversionsAndIntegration) {
  driver::ResonatorBoard board(
      std::shared_ptr<driver::Device>(driver::backends::open("sim:resonator?cells=4&seed=1")));
  const BoardSnapshot before = BoardSnapshot::of(board);
  driver::SymmetricCodes codes(4);
  for (std::uint32_t i = 0; i < 4; ++i)
    codes.set(i, i, 16384);
  board.program_couplings(codes, common::Deadline::after(5s));  // 10 codes
  board.set_noise(100, common::Deadline::after(5s));            // 1 code
  driver::RunRequest run;
  run.samples = 50;
  run.decimation = 3;  // 150 ADC periods of 4 cells
  board.run(run, common::Deadline::after(5s));
  const EnergyModel model;
  const EnergyLedger l = ledger_since(board, before, 1000.0, 2000.0, model);
  EXPECT_EQ(l.activity.dac_codes, 11u);
  EXPECT_EQ(l.activity.adc_conversions, 600u);
  EXPECT_EQ(l.activity.cell_sample_periods, 600u);
  EXPECT_GT(l.io_bytes, 0u);
  EXPECT_DOUBLE_EQ(l.dac_j, 11 * model.dac_per_code);
  EXPECT_DOUBLE_EQ(l.adc_j, 600 * model.adc_per_conversion);
  EXPECT_DOUBLE_EQ(l.analog_j, 600 * model.analog_per_cell_us);  // 1 us sample period
  EXPECT_DOUBLE_EQ(l.io_j, static_cast<double>(l.io_bytes) * model.io_per_byte);
  EXPECT_DOUBLE_EQ(l.host_j, 1000.0 * model.host_per_flop);
  EXPECT_DOUBLE_EQ(l.gpu_j, 2000.0 * model.gpu_per_flop);
  EXPECT_DOUBLE_EQ(l.total_j(), l.analog_j + l.dac_j + l.adc_j + l.io_j + l.host_j);
}

TEST(Energy, SolveReportsALedgerThatGrowsWithItsBatches) {
  const Eigen::MatrixXd a = Eigen::MatrixXd::Identity(4, 4) * 2.0;
  const Eigen::VectorXd b = Eigen::VectorXd::Ones(4);
  driver::ResonatorBoard board(
      std::shared_ptr<driver::Device>(driver::backends::open("sim:resonator?cells=4&seed=2")));
  SolveOptions few;
  few.batches = 5;
  SolveOptions many;
  many.batches = 20;
  const auto small = solve(board, a, b, few).summary;
  const auto large = solve(board, a, b, many).summary;
  EXPECT_GT(small.energy.analog_j, 0.0);
  // Four times the averaging time, the same burn-in and pilot: well over 2.5x the integration.
  EXPECT_GT(large.energy.analog_j, 2.5 * small.energy.analog_j);
  // The ledger's integration matches the modelled device time of the solve.
  EXPECT_NEAR(static_cast<double>(large.energy.activity.cell_sample_periods) * 1e-6 / 4.0,
              large.device_time_s, 1e-9);
  EXPECT_GT(large.energy.gpu_j, 0.0);
}

}  // namespace
}  // namespace kelvin::runtime
