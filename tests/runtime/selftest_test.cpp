// kelvin selftest's checks (runtime/selftest): a healthy emulated board passes every check on
// many seeds (ideal and typical flaws), and each injected defect (board_defects.hpp) fails
// exactly the check it should, naming the right cell, p-bit, pair or edge.
//
// The tolerances are the self-test's own (6 standard errors of each estimate plus the board's
// stated allowances: a false alarm per check with probability 2e-9), so over the ~3000 checks of
// these tests a healthy board fails one by chance with probability below 1e-5; the seeds are
// fixed, so the outcome is reproducible either way.
#include <set>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "selftest_fixture.hpp"

namespace kelvin::runtime::selftest::testing {
namespace {

std::string failures_text(const Summary& s) {
  std::string out;
  for (const std::string& f : s.failures())
    out += f + "\n";
  return out;
}

TEST(Selftest, HealthyResonatorBoardsPassEveryCheckOnManySeeds) {
  for (int seed = 1; seed <= 30; ++seed) {
    const std::string uri = fmt::format("sim:resonator?cells=4&seed={}&imperfections={}", seed,
                                        seed % 2 == 0 ? "typical" : "ideal");
    const Summary s = run_selftest(uri);
    EXPECT_TRUE(s.passed()) << uri << "\n" << failures_text(s);
    EXPECT_EQ(s.count(Outcome::kSkip), 0u) << uri;
    EXPECT_EQ(s.pairs_tested, 6u);
    EXPECT_EQ(s.pairs_total, 6u);
  }
}

TEST(Selftest, AHealthyTypicalEightCellBoardPassesWithTheDefaultOptions) {
  const Summary s = run_selftest("sim:resonator?cells=8&imperfections=typical&seed=3", Options{});
  EXPECT_TRUE(s.passed()) << failures_text(s);
  // link, registers, 3 checks per cell, 28 pairs, counters, stream.
  EXPECT_EQ(s.checks.size(), 2u + 3u * 8u + 28u + 2u);
  EXPECT_EQ(s.pairs_tested, 28u);
}

TEST(Selftest, HealthyPbitBoardsPassEveryCheckOnManySeeds) {
  for (int seed = 1; seed <= 40; ++seed) {
    const std::string uri =
        fmt::format("sim:pbit?rows=5&cols=6&degree={}&seed={}", seed % 2 == 0 ? 8 : 12, seed);
    const Summary s = run_selftest(uri);
    EXPECT_TRUE(s.passed()) << uri << "\n" << failures_text(s);
    EXPECT_EQ(s.pairs_tested, s.pairs_total) << uri;
  }
}

TEST(Selftest, AHealthyPbitBoardPassesWithTheDefaultOptions) {
  const Summary s = run_selftest("sim:pbit?rows=10&cols=10&degree=12&seed=5", Options{});
  EXPECT_TRUE(s.passed()) << failures_text(s);
  EXPECT_EQ(s.count(Outcome::kSkip), 1u);  // the stream: p-bit boards do not stream
  EXPECT_GT(s.pairs_tested, 0u);
  EXPECT_LE(s.pairs_tested, s.pairs_total);
}

struct DefectCase {
  const char* uri;
  std::set<std::string> failures;
};

void expect_exactly(const DefectCase& c) {
  const Summary s = run_selftest(c.uri);
  EXPECT_EQ(failed_checks(s), c.failures) << c.uri << "\n" << failures_text(s);
}

TEST(Selftest, EachResonatorDefectFailsTheCheckItShouldNamingTheCell) {
  expect_exactly({"sim:resonator?cells=6&seed=2&defect=stuck:2", {"noise[cell 2]"}});
  expect_exactly({"sim:resonator?cells=6&seed=3&defect=noisy:3", {"noise[cell 3]"}});
  expect_exactly({"sim:resonator?cells=6&seed=4&defect=offset:1", {"adc_offset[cell 1]"}});
  expect_exactly({"sim:resonator?cells=6&seed=5&defect=bias_dead:4", {"dac_gain[cell 4]"}});
  expect_exactly({"sim:resonator?cells=6&seed=6&defect=open:1-4", {"coupling[pair 1-4]"}});
  expect_exactly({"sim:resonator?cells=6&seed=7&imperfections=typical&defect=open:0-5,noisy:2",
                  {"coupling[pair 0-5]", "noise[cell 2]"}});
}

TEST(Selftest, AFailedCellIsNotTestedFurtherNorAreItsPairs) {
  const Summary s = run_selftest("sim:resonator?cells=4&defect=stuck:1");
  std::set<std::string> skipped;
  for (const CheckResult& c : s.checks) {
    if (c.outcome == Outcome::kSkip)
      skipped.insert(c.name());
  }
  EXPECT_EQ(skipped,
            (std::set<std::string>{"adc_offset[cell 1]", "dac_gain[cell 1]", "coupling[pair 0-1]",
                                   "coupling[pair 1-2]", "coupling[pair 1-3]"}));
  EXPECT_EQ(s.pairs_tested, 3u);
}

TEST(Selftest, EachPbitDefectFailsTheCheckItShouldNamingThePbit) {
  // p-bit 14 is row 2, col 2 of a 6x6 lattice; 14-15 is a lattice edge (the (0, 1) jump).
  expect_exactly({"sim:pbit?rows=6&cols=6&degree=8&defect=stuck:14", {"readout[p-bit 14]"}});
  expect_exactly({"sim:pbit?rows=6&cols=6&degree=8&defect=offset:14", {"readout[p-bit 14]"}});
  expect_exactly({"sim:pbit?rows=6&cols=6&degree=8&defect=noisy:14", {"noise[p-bit 14]"}});
  expect_exactly({"sim:pbit?rows=6&cols=6&degree=8&defect=bias_dead:14", {"bias_dac[p-bit 14]"}});
  expect_exactly({"sim:pbit?rows=7&cols=5&degree=12&seed=3&defect=noisy:0,stuck:34,open:16-17",
                  {"noise[p-bit 0]", "readout[p-bit 34]", "coupling[edge 16-17]"}});
  expect_exactly({"sim:pbit?rows=6&cols=6&degree=8&defect=open:14-15", {"coupling[edge 14-15]"}});
}

TEST(Selftest, TheFailureSaysByHowMuch) {
  const Summary s = run_selftest("sim:resonator?cells=2&defect=offset:0");
  ASSERT_EQ(s.failures().size(), 1u);
  const CheckResult* offset = nullptr;
  for (const CheckResult& c : s.checks) {
    if (c.outcome == Outcome::kFail)
      offset = &c;
  }
  ASSERT_NE(offset, nullptr);
  // The injected offset is 1024 codes; the healthy mean is 0 within a few codes.
  EXPECT_NEAR(*offset->measured, 1024.0, 30.0);
  EXPECT_EQ(*offset->expected, 0.0);
  EXPECT_NE(offset->message.find("x the tolerance of"), std::string::npos) << offset->message;
  EXPECT_NE(s.brief_report().find("FAIL adc_offset[cell 0]"), std::string::npos);
}

TEST(Selftest, BigBoardsTestAStatedSampleOfPairs) {
  Options o = quick_options();
  o.samples = 2048;
  o.max_pair_rounds = 2;
  const Summary s = run_selftest("sim:resonator?cells=20", o);
  EXPECT_EQ(s.pairs_total, 190u);
  EXPECT_EQ(s.pairs_tested, 20u);  // 2 rounds of 10 disjoint pairs
  EXPECT_NE(s.brief_report().find("20 of 190 pairs tested"), std::string::npos);
}

TEST(Selftest, RefusesBadOptionsNamingTheField) {
  Options o;
  o.sigmas = 1.0;
  EXPECT_THROW(o.validate(), std::invalid_argument);
  o = Options{};
  o.chains = 0;
  EXPECT_THROW(o.validate(), std::invalid_argument);
}

}  // namespace
}  // namespace kelvin::runtime::selftest::testing
