// generate_quartic() on emulated resonator boards: the two phases, the heat, the wells, the
// checks, and the calibration's corrections. Register scales used below to compute things
// independently of the runtime are the board's documented ones (docs/boards.md): coupling
// 2^-14 1/us, bias 2^-13 V/us, J4 2^-12 1/(V^2 us), noise 2^-16 V^2/us, ADC 2^-14 V.
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/quartic_generation.hpp"
#include "kelvin/testing/boards.hpp"
#include "quartic_generator_fixture.hpp"

namespace kelvin::runtime {
namespace {

using testing::open_resonator_board;
using testing::quartic::kAdcLsb;
using testing::quartic::kBiasLsb;
using testing::quartic::kCouplingLsb;
using testing::quartic::kQuarticLsb;

QuarticGenerationOptions quick(std::uint32_t samples) {
  QuarticGenerationOptions o;
  o.samples = samples;
  o.calibration = calibration::CalibrationSelection::none();
  return o;
}

// Four independent double wells V_i = -x^2/2 + x^4 (minima at +-0.5 V, barrier 1/16 V^2/us) at
// D = 0.02 (barrier ~3 kT, well width sqrt(D / 2) = 0.1 V). Each cell falls into either well
// with probability 1/2 by symmetry, so over 24 samples one cell shows a single sign with
// probability 2^-23: the test fails only if the wells or the reset are wrong.
TEST(QuarticGeneration, ADoubleWellGivesBothSignsOverSamples) {
  auto board = open_resonator_board(4, 5);
  QuarticGenerator g = testing::quartic::double_wells(4, /*noise_code=*/1311);
  const QuarticGenerationResult r = generate_quartic(board, g, quick(24));
  ASSERT_EQ(r.images.size(), 24u);
  for (std::uint32_t cell = 0; cell < 4; ++cell) {
    int positive = 0, negative = 0;
    for (const auto& image : r.images) {
      positive += image[cell] > 0.0;
      negative += image[cell] < 0.0;
      EXPECT_LT(std::abs(image[cell]), 1.5) << "far outside both wells";
    }
    EXPECT_GT(positive, 0) << "cell " << cell;
    EXPECT_GT(negative, 0) << "cell " << cell;
  }
  EXPECT_EQ(r.summary.heat_dof, 23u);
  ASSERT_TRUE(r.summary.heat_mean_kt.has_value());
  EXPECT_GT(*r.summary.heat_stderr_kt, 0.0);
  EXPECT_EQ(r.summary.clipped_generated, 0u);
  EXPECT_GT(r.summary.device_time_s, 0.0);
  EXPECT_GT(r.summary.energy.total_j(), 0.0);
  EXPECT_NEAR(r.summary.device_time_s, 24 * (25 + 25) * 1e-6, 1e-12);
}

// Without noise, phase 1 stays at x = 0 and phase 2 is the deterministic gradient flow of V, so
// Q = V(0) - V(x_end) = -V(x_end), computed here from the codes and the read states.
TEST(QuarticGeneration, WithoutNoiseTheHeatIsThePotentialDifferenceOfTheCodes) {
  auto board = open_resonator_board(2, 1);
  QuarticGenerator g = testing::quartic::double_wells(2, /*noise_code=*/0);
  g.coupling_codes = {16384, -4096, -4096, 12288};  // A = [[1, -0.25], [-0.25, 0.75]] 1/us
  g.bias_codes = {2048, -1024};                     // b = (0.25, -0.125) V/us
  g.quartic_codes = {2048, 409};                    // J4 = (0.5, 0.0999)
  g.coupled_samples = 40;
  const QuarticGenerationResult r = generate_quartic(board, g, quick(2));
  ASSERT_EQ(r.heat.size(), 2u);
  const std::vector<double>& x = r.images[0];
  const double a00 = 16384 * kCouplingLsb, a01 = -4096 * kCouplingLsb, a11 = 12288 * kCouplingLsb;
  const double b0 = 2048 * kBiasLsb, b1 = -1024 * kBiasLsb;
  const double j0 = 2048 * kQuarticLsb, j1 = 409 * kQuarticLsb;
  const double v_end = 0.5 * (a00 * x[0] * x[0] + 2 * a01 * x[0] * x[1] + a11 * x[1] * x[1]) -
                       b0 * x[0] - b1 * x[1] + j0 * std::pow(x[0], 4) + j1 * std::pow(x[1], 4);
  EXPECT_NEAR(r.heat[0], -v_end, 1e-12);
  EXPECT_NEAR(quartic_potential(g, board.description(), x), v_end, 1e-12);
  EXPECT_GT(r.heat[0], 0.0) << "a gradient flow only loses potential energy";
  EXPECT_EQ(r.heat[0], r.heat[1]) << "no noise: both samples are the same";
  // 40 us at rates >= 0.6/us: the end is the minimum, to the ADC's resolution.
  const double g0 = a00 * x[0] + a01 * x[1] - b0 + 4 * j0 * std::pow(x[0], 3);
  const double g1 = a01 * x[0] + a11 * x[1] - b1 + 4 * j1 * std::pow(x[1], 3);
  EXPECT_LT(std::hypot(g0, g1), 4 * kAdcLsb);
  EXPECT_TRUE(std::isnan(r.heat_kt[0]));
  EXPECT_FALSE(r.summary.heat_mean_kt.has_value());
  EXPECT_EQ(r.summary.heat_stderr, 0.0);
}

// The uncoupled phase programs only the diagonal and b = 0: the same board and noise seed give
// bit-identical phase-1 trajectories for a generator with strong couplings and biases and one
// without them; in phase 2 the strong bias moves the cells.
TEST(QuarticGeneration, TheUncoupledPhaseIgnoresCouplingsAndBiases) {
  QuarticGenerator plain = testing::quartic::double_wells(3, 1311);
  QuarticGenerator strong = plain;
  for (std::uint32_t i = 0; i < 3; ++i) {
    strong.bias_codes[i] = 16000;  // b ~ 1.95 V/us: pushes every cell to about +1 V
    for (std::uint32_t j = 0; j < 3; ++j)
      if (i != j)
        strong.coupling_codes[i * 3 + j] = -3000;
  }
  QuarticGenerationOptions o = quick(3);
  o.record_trajectories = true;
  auto first = open_resonator_board(3, 9);
  const QuarticGenerationResult a = generate_quartic(first, plain, o);
  auto second = open_resonator_board(3, 9);
  const QuarticGenerationResult b = generate_quartic(second, strong, o);
  const std::size_t phase1 = plain.uncoupled_samples * 3;
  for (std::size_t k = 0; k < 3; ++k) {
    ASSERT_EQ(a.trajectories[k].size(), (plain.uncoupled_samples + plain.coupled_samples) * 3);
    const std::vector<double> pa(a.trajectories[k].begin(), a.trajectories[k].begin() + phase1);
    const std::vector<double> pb(b.trajectories[k].begin(), b.trajectories[k].begin() + phase1);
    EXPECT_EQ(pa, pb) << "sample " << k;
    EXPECT_NE(a.images[k], b.images[k]);
    for (const double v : b.images[k])
      EXPECT_GT(v, 0.6) << "the bias acts in phase 2";
    // The image is the trajectory's last sample.
    const std::vector<double> last(b.trajectories[k].end() - 3, b.trajectories[k].end());
    EXPECT_EQ(last, b.images[k]);
  }
}

TEST(QuarticGeneration, ATypicalBoardGeneratesAndWarnsWithoutCalibration) {
  auto board = open_resonator_board(4, 2, "&imperfections=typical");
  const QuarticGenerator g = testing::quartic::double_wells(4, 1311);
  const QuarticGenerationResult r = generate_quartic(board, g, quick(4));
  EXPECT_EQ(r.images.size(), 4u);
  EXPECT_EQ(r.summary.calibration, "none");
  bool flaws = false, quantization = false;
  for (const std::string& w : r.summary.warnings) {
    flaws = flaws || w.find("no calibration is applied") != std::string::npos;
    quantization = quantization || w.find("ADC-quantized") != std::string::npos;
  }
  EXPECT_TRUE(flaws);
  EXPECT_TRUE(quantization);
  EXPECT_NE(r.summary.full_report().find("heat mean"), std::string::npos);
  EXPECT_NE(r.summary.brief_report().find("kT"), std::string::npos);
}

TEST(QuarticGeneration, ValidationNamesTheField) {
  auto board = open_resonator_board(2, 1);
  const auto& d = board.description();
  auto message_of = [&](QuarticGenerator g) {
    try {
      g.validate(d);
    } catch (const common::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  QuarticGenerator g = testing::quartic::double_wells(3, 100);
  EXPECT_NE(message_of(g).find("cells = 3 but board"), std::string::npos) << message_of(g);
  g = testing::quartic::double_wells(2, 100);
  g.coupling_codes[1] = 5;
  EXPECT_NE(message_of(g).find("coupling_codes[0][1] = 5"), std::string::npos) << message_of(g);
  g = testing::quartic::double_wells(2, 100);
  g.bias_codes[1] = -32768;
  EXPECT_NE(message_of(g).find("bias_codes[1]"), std::string::npos) << message_of(g);
  g = testing::quartic::double_wells(2, 100);
  g.coupled_samples = std::uint64_t{d.max_record_samples} + 1;
  EXPECT_NE(message_of(g).find("coupled_samples"), std::string::npos) << message_of(g);
  g = testing::quartic::double_wells(2, 100);
  g.visible = {0, 0};
  EXPECT_NE(message_of(g).find("visible[1] = 0 appears twice"), std::string::npos);
  g = testing::quartic::double_wells(2, 100);
  g.image_cols = 3;
  EXPECT_NE(message_of(g).find("image_rows x image_cols"), std::string::npos);
  g = testing::quartic::double_wells(2, 100);
  g.uncoupled_samples = 0;
  EXPECT_NE(message_of(g).find("uncoupled_samples = 0"), std::string::npos);
  QuarticGenerationOptions o;
  o.samples = 0;
  EXPECT_THROW(o.validate(), common::Error);
  try {
    o.validate();
  } catch (const common::Error& e) {
    EXPECT_NE(std::string(e.what()).find("samples = 0"), std::string::npos) << e.what();
  }
}

TEST(QuarticGeneration, ACapacitiveBoardRefusesPositiveCouplings) {
  auto board = open_resonator_board(2, 1, "&couplings=capacitive");
  QuarticGenerator g = testing::quartic::double_wells(2, 100);
  g.coupling_codes[1] = g.coupling_codes[2] = 100;
  EXPECT_THROW(g.validate(board.description()), common::Error);
}

}  // namespace
}  // namespace kelvin::runtime
