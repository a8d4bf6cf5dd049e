// `kelvin natgrad` end to end, for what its error bars leave out: the transient at the analog
// time run (warning; --transient-tolerance for the natural gradient itself), the degrees of
// freedom of the stderr, times that round to no sample period, and --symmetry-tolerance, which
// solve, natgrad and logdet share. Run as a child process on the emulated board.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"
#include "spd_fixtures.hpp"
#include "test_files.hpp"

namespace kelvin::tools::matrix_io {
namespace {

using nlohmann::json;
using testing::expect_one_error_line;
using testing::Outcome;
using testing::parse_stdout;
using testing::run_kelvin;
using testing::small_spd_matrix;
using testing::TempDir;

constexpr Eigen::Index kN = 6;
// Student-t 97.5% quantile for 3 dof, and the two-sided 1 - 1e-3 / 6 quantile for 15 dof.
constexpr double kT3At95 = 3.182446;
constexpr double kT15Over6 = 4.97;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string warnings_of(const json& result) {
  std::string out;
  for (const auto& w : result["summary"]["warnings"])
    out += w.get<std::string>() + "\n";
  return out;
}

// F with a slowest mode 1000 times slower than its fastest: the default --time 50 leaves most of
// the start in it (the user's report: 0.83 of the transient left, nothing said).
struct SlowCase {
  TempDir dir;
  Eigen::MatrixXd f = runtime::testing::random_spd(kN, 1000.0, 21);
  Eigen::VectorXd g = runtime::testing::random_vector(kN, 32);

  SlowCase() {
    write_npy(dir / "F.npy", f);
    write_npy(dir / "g.npy", g);
  }
  std::vector<std::string> args(std::vector<std::string> more) const {
    std::vector<std::string> a{
        "natgrad",   "--fisher", (dir / "F.npy").string(), "--grad", (dir / "g.npy").string(),
        "--damping", "0.01"};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
  Eigen::VectorXd natural_gradient() const {
    return (f + 0.01 * Eigen::MatrixXd::Identity(kN, kN)).llt().solve(g);
  }
};

TEST(KelvinCliNatgrad, DefaultTimeWarnsThatTheTransientExceedsTheStderrInJsonAndText) {
  const SlowCase c;
  const Outcome outcome = run_kelvin(c.dir, c.args({"--json"}));
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const json result = parse_stdout(outcome);
  EXPECT_GT(result["summary"].value("remaining_transient", 0.0), 0.3);
  EXPECT_GT(result["summary"].value("transient_bound", 0.0), 0.0);
  const std::string w = warnings_of(result);
  EXPECT_TRUE(contains(w, "not the natural gradient")) << w;
  EXPECT_TRUE(contains(w, "--transient-tolerance")) << w;

  const Outcome text = run_kelvin(c.dir, c.args({}));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(contains(text.out, "not the natural gradient")) << text.out;
  EXPECT_TRUE(contains(text.out, "transient bound")) << text.out;
}

// --transient-tolerance asks for the natural gradient: the time is chosen (reported as given
// null, run in whole periods long enough), and the answer is the natural gradient within its
// error bars, with no transient warning.
TEST(KelvinCliNatgrad, TransientToleranceGivesTheNaturalGradientWithinItsErrorBars) {
  const SlowCase c;
  const Outcome outcome =
      run_kelvin(c.dir, c.args({"--transient-tolerance", "1e-6", "--repeats", "16", "--json"}));
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const json result = parse_stdout(outcome);
  const json& s = result["summary"];
  EXPECT_TRUE(s["time_us_given"].is_null()) << s.dump();
  EXPECT_EQ(s.value("transient_tolerance_given", 0.0), 1e-6);
  EXPECT_GT(s.value("time_us", 0.0), 50.0);
  EXPECT_LE(s.value("remaining_transient", 1.0), 1e-6 * (1.0 + 1e-9));
  EXPECT_FALSE(contains(warnings_of(result), "transient")) << warnings_of(result);
  const Eigen::VectorXd ngd = c.natural_gradient();
  const double bound = s.value("transient_bound", 1e300);
  for (std::size_t i = 0; i < kN; ++i) {
    const double x = result["estimate"][i].get<double>();
    const double se = result["stderr"][i].get<double>();
    EXPECT_LE(std::abs(x - ngd(static_cast<Eigen::Index>(i))), kT15Over6 * se + bound)
        << "component " << i;
  }
  // One way to set the time: --time and --transient-tolerance exclude each other.
  EXPECT_EQ(run_kelvin(c.dir, c.args({"--time", "10", "--transient-tolerance", "1e-6"})).exit_code,
            2);
  EXPECT_EQ(run_kelvin(c.dir, c.args({"--transient-tolerance", "1"})).exit_code, 2);
}

// 0.3 us rounded to 0 sample periods and returned g with a zero stderr; now one error line
// naming the sample period and the smallest time.
TEST(KelvinCliNatgrad, RefusesATimeThatRoundsToNoSamplePeriod) {
  const SlowCase c;
  const std::string line = expect_one_error_line(run_kelvin(c.dir, c.args({"--time", "0.3"})));
  EXPECT_TRUE(contains(line, "sample periods of 1 us")) << line;
  EXPECT_TRUE(contains(line, "0.5 us")) << line;
}

TEST(KelvinCliNatgrad, ReportsTheDegreesOfFreedomAndRefusesOneRepeat) {
  const SlowCase c;
  const Outcome outcome = run_kelvin(c.dir, c.args({"--json"}));
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const json s = parse_stdout(outcome)["summary"];
  EXPECT_EQ(s.value("degrees_of_freedom", 0), 3);
  EXPECT_NEAR(s.value("t95", 0.0), kT3At95, 1e-5);
  const Outcome text = run_kelvin(c.dir, c.args({}));
  EXPECT_TRUE(contains(text.out, "95% +-(3)")) << text.out;
  const Outcome one = run_kelvin(c.dir, c.args({"--repeats", "1"}));
  EXPECT_EQ(one.exit_code, 2);
  EXPECT_TRUE(contains(one.err, "repeats = 1")) << one.err;
}

// float32-like data (1.5e-7 relative asymmetry): refused with the asymmetry, the tolerance and
// the flag named; accepted with --symmetry-tolerance, which solve, natgrad and logdet all have.
TEST(KelvinCliNatgrad, SymmetryToleranceIsOneFlagOfSolveNatgradAndLogdet) {
  TempDir dir;
  Eigen::MatrixXd a = small_spd_matrix();
  a(0, 1) += 1.5e-7 * a.cwiseAbs().maxCoeff();
  write_npy(dir / "A.npy", a);
  write_npy(dir / "b.npy", Eigen::VectorXd(Eigen::VectorXd::Ones(4)));
  const std::string A = (dir / "A.npy").string();
  const std::string b = (dir / "b.npy").string();
  const std::vector<std::vector<std::string>> commands{
      {"natgrad", "--fisher", A, "--grad", b},
      {"solve", "--matrix", A, "--rhs", b},
      {"logdet", "--matrix", A, "--trajectories", "16"}};
  for (const auto& command : commands) {
    const std::string line = expect_one_error_line(run_kelvin(dir, command));
    EXPECT_TRUE(contains(line, "1.5e-07")) << line;
    EXPECT_TRUE(contains(line, "symmetry_tolerance = 1e-10")) << line;
    EXPECT_TRUE(contains(line, "--symmetry-tolerance 2e-07)")) << line;

    std::vector<std::string> loose = command;
    loose.insert(loose.end(), {"--symmetry-tolerance", "1e-6"});
    const Outcome accepted = run_kelvin(dir, loose);
    EXPECT_EQ(accepted.exit_code, 0) << command[0] << ": " << accepted.err;

    std::vector<std::string> too_loose = command;
    too_loose.insert(too_loose.end(), {"--symmetry-tolerance", "0.1"});
    const Outcome refused = run_kelvin(dir, too_loose);
    EXPECT_EQ(refused.exit_code, 2) << command[0];
    EXPECT_TRUE(contains(refused.err, "symmetry_tolerance = 0.1")) << refused.err;

    const Outcome help = run_kelvin(dir, {command[0], "--help"});
    EXPECT_TRUE(contains(help.out, "--symmetry-tolerance")) << command[0];
  }
}

TEST(KelvinCliNatgrad, HelpExplainsTheTransientAndTheDegreesOfFreedom) {
  TempDir dir;
  const Outcome help = run_kelvin(dir, {"natgrad", "--help"});
  ASSERT_EQ(help.exit_code, 0);
  for (const char* part : {"--transient-tolerance", "degrees of freedom", "whole sample periods",
                           "not include the transient"})
    EXPECT_TRUE(contains(help.out, part)) << part << " not in:\n" << help.out;
}

}  // namespace
}  // namespace kelvin::tools::matrix_io
