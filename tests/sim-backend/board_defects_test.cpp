// Injected board defects (board_defects.hpp): the spec's parser and its errors, and each
// defect's physical effect on the emulated resonator and p-bit boards, seen through the models.
#include "kelvin/sim_backend/board_defects.hpp"

#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/firmware_protocol/pbit_lattice.hpp"
#include "kelvin/firmware_protocol/wire_layout.hpp"
#include "kelvin/sim_backend/pbit_model.hpp"
#include "kelvin/sim_backend/resonator_model.hpp"

namespace kelvin::sim_backend {
namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(DefectSpec, ParsesEveryKindIntoItsCanonicalText) {
  const BoardDefects d =
      parse_defect_spec(" bias_dead:7,open:2-1 ,stuck:3,noisy:0,offset:5,stuck:3");
  EXPECT_EQ(d.stuck, std::vector<std::uint32_t>{3});
  ASSERT_EQ(d.open.size(), 1u);
  EXPECT_EQ(d.open[0], std::make_pair(1u, 2u));
  EXPECT_EQ(to_string(d), "stuck:3,open:1-2,noisy:0,offset:5,bias_dead:7");
  EXPECT_EQ(to_string(parse_defect_spec(to_string(d))), to_string(d));
  EXPECT_TRUE(parse_defect_spec("").none());
  EXPECT_EQ(to_string(BoardDefects{}), "none");
}

TEST(DefectSpec, RefusesMalformedItemsNamingThem) {
  const auto message = [](const char* text) {
    try {
      parse_defect_spec(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("stuck").find("'stuck' has no cell"), std::string::npos);
  EXPECT_NE(message("stuck:x").find("'x' is not a cell index"), std::string::npos);
  EXPECT_NE(message("stuck:-1").find("not a cell index"), std::string::npos);
  EXPECT_NE(message("open:1").find("open takes a pair I-J"), std::string::npos);
  EXPECT_NE(message("open:2-2").find("two different cells"), std::string::npos);
  EXPECT_NE(message("melted:1").find("unknown defect 'melted'"), std::string::npos);
}

TEST(DefectSpec, RefusesCellsTheBoardDoesNotHave) {
  ResonatorConfig config;
  config.cells = 4;
  config.defects = parse_defect_spec("noisy:4");
  EXPECT_THROW(config.validate(), std::invalid_argument);
  config.defects = parse_defect_spec("open:0-9");
  EXPECT_THROW(config.validate(), std::invalid_argument);
  config.defects = parse_defect_spec("noisy:3,open:0-3");
  EXPECT_NO_THROW(config.validate());

  PbitConfig pbit;
  pbit.rows = 2;
  pbit.cols = 2;
  pbit.degree = 8;
  pbit.defects = parse_defect_spec("stuck:4");
  EXPECT_THROW(pbit.validate(), std::invalid_argument);
  pbit.defects = parse_defect_spec("open:0-3");  // diagonal neighbours are not coupled
  EXPECT_THROW(pbit.validate(), std::invalid_argument);
  pbit.defects = parse_defect_spec("open:0-1");
  EXPECT_NO_THROW(pbit.validate());
}

// A 2-cell resonator board with A = diag(a) (+ an optional coupling), one bias per cell and the
// noise code `noise`; the codes of `samples` recorded samples, sample-major.
struct ResonatorRun {
  std::vector<std::int16_t> codes;
  double mean(std::uint32_t cell) const {
    double s = 0;
    for (std::size_t k = cell; k < codes.size(); k += 2)
      s += codes[k];
    return s / static_cast<double>(codes.size() / 2);
  }
  double variance(std::uint32_t cell) const {
    const double m = mean(cell);
    double s = 0;
    for (std::size_t k = cell; k < codes.size(); k += 2)
      s += (codes[k] - m) * (codes[k] - m);
    return s / static_cast<double>(codes.size() / 2);
  }
};

ResonatorRun run_resonator(const char* defects, std::int16_t coupling, std::int16_t bias0,
                           std::int16_t bias1, std::uint32_t noise) {
  ResonatorConfig config;
  config.cells = 2;
  config.defects = parse_defect_spec(defects);
  ResonatorModel model(config);
  // Upper triangle: A00, A01, A11.
  model.program_couplings(
      2, bytes_of(firmware_protocol::pack_le16(std::vector<std::int16_t>{1024, coupling, 1024})));
  model.program_biases(
      2, bytes_of(firmware_protocol::pack_le16(std::vector<std::int16_t>{bias0, bias1})));
  model.set_noise(noise);
  constexpr std::uint64_t kSamples = 20000;
  RunRequest request;
  request.duration_ticks = 100 * kSamples;
  request.reset_state = true;
  request.record_samples = true;
  const RunTicket ticket = model.begin_run(request);
  model.execute(ticket);
  const RunRecord& record = model.results(ticket.run_id);
  return {firmware_protocol::unpack_le16(record.samples_le16, 2 * kSamples, "samples")};
}

TEST(ResonatorDefects, AStuckCellReadsOneCodeAndTheOtherIsUntouched) {
  const ResonatorRun healthy = run_resonator("", 0, 0, 0, 10);
  const ResonatorRun stuck = run_resonator("stuck:1", 0, 0, 0, 10);
  for (std::size_t k = 0; k < stuck.codes.size(); k += 2) {
    ASSERT_EQ(stuck.codes[k], healthy.codes[k]);
    ASSERT_EQ(stuck.codes[k + 1], kStuckAdcCode);
  }
}

TEST(ResonatorDefects, AnOffsetCellReadsTheOffsetMoreOnEverySample) {
  const ResonatorRun healthy = run_resonator("", 0, 64, 0, 10);
  const ResonatorRun offset = run_resonator("offset:0", 0, 64, 0, 10);
  for (std::size_t k = 0; k < offset.codes.size(); k += 2) {
    ASSERT_EQ(offset.codes[k] - healthy.codes[k], kDefectAdcOffsetCodes);
    ASSERT_EQ(offset.codes[k + 1], healthy.codes[k + 1]);
  }
}

TEST(ResonatorDefects, ANoisyCellHasTenTimesTheNoiseAmplitude) {
  // Uncoupled cells and the same noise stream: the noisy cell's state is 10x the healthy one's,
  // so the variance ratio is 100 up to the ADC's rounding (variance ~ 8e5 codes^2 against 1/12).
  const ResonatorRun healthy = run_resonator("", 0, 0, 0, 10);
  const ResonatorRun noisy = run_resonator("noisy:1", 0, 0, 0, 10);
  EXPECT_NEAR(noisy.variance(1) / healthy.variance(1), 100.0, 0.1);
  EXPECT_EQ(noisy.variance(0), healthy.variance(0));
}

TEST(ResonatorDefects, ADeadBiasDacIgnoresItsCode) {
  // No noise: a live bias of 128 codes settles at b / a = 0.25 V = 4096 codes (after the first
  // few hundred samples of the 16 us time constant); the dead one stays at 0.
  const ResonatorRun run = run_resonator("bias_dead:1", 0, 128, 128, 0);
  EXPECT_EQ(run.codes[run.codes.size() - 2], 4096);
  EXPECT_EQ(run.mean(1), 0.0);
}

TEST(ResonatorDefects, AnOpenCouplingCarriesNothing) {
  // Cell 0 biased, coupled to cell 1 by -512 codes: without noise cell 1 settles at
  // -c b / (a^2 - c^2) = (2/3) 0.25 V = 2731 codes when coupled, at 0 when the coupling is open.
  const ResonatorRun coupled = run_resonator("", -512, 128, 0, 0);
  const ResonatorRun open = run_resonator("open:0-1", -512, 128, 0, 0);
  EXPECT_NEAR(coupled.codes.back(), 2731, 1);
  EXPECT_EQ(open.mean(1), 0.0);
  EXPECT_EQ(open.codes[open.codes.size() - 2], 4096);
}

// The sums of a 2x2 degree-8 p-bit board (a square: edges 0-1, 0-2, 1-3, 2-3): `sweeps` sweeps
// of one chain at beta = 1, with weight `weight` on edge 0-1 only and every bias `bias`.
SamplingRecord run_pbit(const char* defects, std::int8_t weight, std::int8_t bias,
                        std::uint64_t sweeps) {
  PbitConfig config;
  config.rows = 2;
  config.cols = 2;
  config.degree = 8;
  config.defects = parse_defect_spec(defects);
  PbitModel model(config);
  std::string weights(model.lattice().edges().size(), '\0');
  weights[*model.lattice().edge_index(0, 1)] = static_cast<char>(weight);
  const std::string biases(4, static_cast<char>(bias));
  model.program_lattice(4, bytes_of(weights), bytes_of(biases));
  SamplingRequest request;
  request.sweeps = sweeps;
  request.accumulate_moments = true;
  request.reset_state = true;
  const SamplingTicket ticket = model.begin_run(request);
  model.execute(ticket);
  return model.results(ticket.run_id);
}

double mean_spin(const SamplingRecord& r, std::uint32_t node) {
  return static_cast<double>(r.spin_sums[node]) / static_cast<double>(r.ticket.sample_count);
}

// Uncoupled p-bits sample independently every sweep: a mean spin m of N samples has standard
// error sqrt((1 - m^2) / N); the tests allow 6 of them.
constexpr std::uint64_t kSweeps = 20000;
double six_sigma(double m) {
  return 6.0 * std::sqrt(std::max(1.0 - m * m, 1e-4) / static_cast<double>(kSweeps));
}

TEST(PbitDefects, AStuckPbitAlwaysReadsPlusOne) {
  const SamplingRecord r = run_pbit("stuck:2", 0, -20, kSweeps);
  EXPECT_EQ(r.spin_sums[2], static_cast<std::int64_t>(kSweeps));
  EXPECT_NEAR(mean_spin(r, 0), -1.0, 1e-6);  // the others follow their bias
}

TEST(PbitDefects, AnOffsetPbitLeansToPlusOneAtZeroField) {
  // P(+1) = sigmoid(0 + 4): mean spin tanh(2) = 0.964.
  const SamplingRecord r = run_pbit("offset:1", 0, 0, kSweeps);
  EXPECT_NEAR(mean_spin(r, 1), std::tanh(2.0), six_sigma(std::tanh(2.0)));
  EXPECT_NEAR(mean_spin(r, 0), 0.0, six_sigma(0.0));
}

TEST(PbitDefects, ANoisyPbitHasATenTimesWiderSigmoid) {
  // Bias 10 at beta 1: a healthy p-bit's mean is tanh(10) = 1 - 4e-9, the noisy one's
  // tanh(10 / 10) = 0.762.
  const SamplingRecord r = run_pbit("noisy:3", 0, 10, kSweeps);
  EXPECT_NEAR(mean_spin(r, 3), std::tanh(1.0), six_sigma(std::tanh(1.0)));
  EXPECT_NEAR(mean_spin(r, 0), 1.0, 1e-3);
}

TEST(PbitDefects, ADeadBiasDacIgnoresItsCode) {
  const SamplingRecord r = run_pbit("bias_dead:0", 0, 10, kSweeps);
  EXPECT_NEAR(mean_spin(r, 0), 0.0, six_sigma(0.0));
  EXPECT_NEAR(mean_spin(r, 1), 1.0, 1e-3);
}

TEST(PbitDefects, AnOpenEdgeCarriesNoCorrelation) {
  // Weight 6 at beta 1 on edge 0-1 alone: <s0 s1> = tanh(6) = 0.99999 when it is coupled, 0
  // when it is open (block Gibbs on an isolated pair: consecutive products correlate by
  // tanh(6)^2 at most, which the 6-sigma band of 0 +- 6 / sqrt(N) does not need when the true
  // value is exactly 0 and the spins independent).
  const SamplingRecord healthy = run_pbit("", 6, 0, kSweeps);
  const SamplingRecord open = run_pbit("open:0-1", 6, 0, kSweeps);
  const auto lattice = firmware_protocol::make_pbit_lattice(2, 2, 8);
  const std::uint32_t e = *lattice.edge_index(0, 1);
  const auto correlation = [&](const SamplingRecord& r) {
    return static_cast<double>(r.edge_sums[e]) / static_cast<double>(r.ticket.sample_count);
  };
  EXPECT_NEAR(correlation(healthy), std::tanh(6.0), six_sigma(std::tanh(6.0)) + 1e-4);
  EXPECT_NEAR(correlation(open), 0.0, six_sigma(0.0));
}

}  // namespace
}  // namespace kelvin::sim_backend
