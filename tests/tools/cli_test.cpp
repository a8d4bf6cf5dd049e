// The kelvin program end to end: run as a child process on the emulated board, stdout parsed,
// stderr captured to a file.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"
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

TEST(KelvinCli, ProbeJsonDescribesTheDefaultResonatorBoard) {
  TempDir dir;
  const Outcome outcome = run_kelvin(dir, {"probe", "--json"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const json probe = parse_stdout(outcome);
  EXPECT_EQ(probe.value("family", ""), "resonator");
  EXPECT_EQ(probe.value("cells", 0), 8);
  EXPECT_TRUE(probe.contains("uri"));
  ASSERT_TRUE(probe.contains("coupling_dac"));
  EXPECT_TRUE(probe["coupling_dac"].contains("lsb"));
  EXPECT_TRUE(probe["capabilities"].is_array());
  EXPECT_EQ(probe["coupling_dac"].value("bits", 0), 16);
  EXPECT_EQ(probe["adc"].value("bits", 0), 16);
  ASSERT_TRUE(probe.contains("imperfections"));
  EXPECT_EQ(probe["imperfections"].value("model", ""), "ideal");
  ASSERT_TRUE(probe.contains("resonator"));
  EXPECT_EQ(probe["resonator"].value("coupling_kind", ""), "signed");
  EXPECT_EQ(probe["resonator"]["quartic_dac"].value("bits", 0), 16);
}

TEST(KelvinCli, ProbeReportsTheImperfectionModelAndCouplingKindOfTheUri) {
  TempDir dir;
  const Outcome outcome = run_kelvin(
      dir, {"probe", "--uri", "sim:resonator?cells=4&imperfections=typical&couplings=capacitive",
            "--json"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const json probe = parse_stdout(outcome);
  EXPECT_EQ(probe["imperfections"].value("model", ""), "typical");
  EXPECT_DOUBLE_EQ(probe["imperfections"].value("capacitance", 0.0), 0.01);
  EXPECT_DOUBLE_EQ(probe["imperfections"].value("adc_offset_codes", 0.0), 8.0);
  EXPECT_EQ(probe["resonator"].value("coupling_kind", ""), "capacitive");
  EXPECT_EQ(probe["resonator"]["dynamics"], json::array({"overdamped", "rlc"}));
}

// Long analog time (the slowest device rate is about 0.5/us here, so 60 us leaves about e^-30 of
// the start): the estimate is the natural gradient, within the error bars of 16 reads (t with 15
// dof, Bonferroni over 4 components at 1e-3: 4.7; 6 is used, as for solve).
TEST(KelvinCli, NatgradJsonGivesTheNaturalGradientWithinItsErrorBars) {
  TempDir dir;
  const Eigen::MatrixXd f = small_spd_matrix();
  Eigen::VectorXd g(4);
  g << 1.0, -0.5, 0.25, 0.75;
  write_matrix_text(dir / "F.txt", f);
  write_npy(dir / "g.npy", g);
  const Outcome outcome = run_kelvin(
      dir, {"natgrad", "--fisher", (dir / "F.txt").string(), "--grad", (dir / "g.npy").string(),
            "--damping", "0.1", "--time", "60", "--repeats", "16", "--json"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const json result = parse_stdout(outcome);
  ASSERT_EQ(result["estimate"].size(), 4u);
  ASSERT_EQ(result["stderr"].size(), 4u);
  ASSERT_TRUE(result.contains("energy"));
  EXPECT_GT(result["energy"].value("total_j", 0.0), 0.0);
  EXPECT_GT(result["energy"].value("gpu_equivalent_j", 0.0), 0.0);
  EXPECT_LT(result["summary"].value("remaining_transient", 1.0), 1e-9);
  const Eigen::VectorXd expected = (f + 0.1 * Eigen::MatrixXd::Identity(4, 4)).ldlt().solve(g);
  for (std::size_t i = 0; i < 4; ++i) {
    const double x = result["estimate"][i].get<double>();
    const double se = result["stderr"][i].get<double>();
    EXPECT_LE(std::abs(x - expected(static_cast<Eigen::Index>(i))), 6.0 * se)
        << "component " << i << ": board " << x << ", Eigen "
        << expected(static_cast<Eigen::Index>(i)) << ", stderr " << se;
  }
}

// A curvature whose rows span four decades: auto preconditioning reports Jacobi with its
// predicted error; none and jacobi are honoured; a bad mode is a usage error.
TEST(KelvinCli, NatgradReportsAndHonoursThePreconditioningChoice) {
  TempDir dir;
  Eigen::VectorXd scales(4);
  scales << 1.0, 0.1, 0.01, 0.001;
  write_matrix_text(dir / "F.txt", scales.asDiagonal() * small_spd_matrix() * scales.asDiagonal());
  write_npy(dir / "g.npy", Eigen::VectorXd(Eigen::VectorXd::Ones(4)));
  const std::vector<std::string> base{"natgrad",
                                      "--fisher",
                                      (dir / "F.txt").string(),
                                      "--grad",
                                      (dir / "g.npy").string(),
                                      "--damping",
                                      "1e-8",
                                      "--json"};
  const Outcome automatic = run_kelvin(dir, base);
  ASSERT_EQ(automatic.exit_code, 0) << automatic.err;
  const json chosen = parse_stdout(automatic)["summary"]["preconditioning"];
  EXPECT_TRUE(chosen.value("jacobi", false)) << chosen.dump();
  EXPECT_NE(chosen.value("reason", "").find("auto"), std::string::npos) << chosen.dump();
  EXPECT_GT(chosen.value("predicted_quantization_error", -1.0), 0.0);

  // Without preconditioning this matrix does not survive rounding to 16-bit codes: the choice
  // is honoured and the board path refuses with one clear line instead of a wrong answer.
  std::vector<std::string> none = base;
  none.insert(none.end(), {"--preconditioning", "none"});
  const Outcome plain = run_kelvin(dir, none);
  EXPECT_EQ(plain.exit_code, 1);
  EXPECT_NE(plain.err.find("without preconditioning"), std::string::npos) << plain.err;

  std::vector<std::string> jacobi = base;
  jacobi.insert(jacobi.end(), {"--preconditioning", "jacobi"});
  const Outcome forced = run_kelvin(dir, jacobi);
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(parse_stdout(forced)["summary"]["preconditioning"].value("reason", ""),
            "Jacobi (requested)");

  std::vector<std::string> bad = base;
  bad.insert(bad.end(), {"--preconditioning", "cholesky"});
  EXPECT_EQ(run_kelvin(dir, bad).exit_code, 2);
}

TEST(KelvinCli, NatgradRefusesAnIndefiniteCurvatureWithOneErrorLine) {
  TempDir dir;
  write_matrix_text(dir / "F.txt", -small_spd_matrix());
  write_npy(dir / "g.npy", Eigen::VectorXd(Eigen::VectorXd::Ones(4)));
  const Outcome outcome = run_kelvin(
      dir, {"natgrad", "--fisher", (dir / "F.txt").string(), "--grad", (dir / "g.npy").string()});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_NE(outcome.err.find("positive definite"), std::string::npos) << outcome.err;
}

// 40 unknowns on an 8-cell board: block-Jacobi conjugate gradients with the blocks on the board.
TEST(KelvinCli, SolveLargerThanTheBoardReportsTheResidualAndAnErrorEstimate) {
  TempDir dir;
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(40, 40) * 2.0;
  for (Eigen::Index i = 0; i + 1 < 40; ++i)
    a(i, i + 1) = a(i + 1, i) = -0.6;
  for (Eigen::Index i = 0; i + 9 < 40; ++i)
    a(i, i + 9) = a(i + 9, i) = 0.3;
  const Eigen::VectorXd b = Eigen::VectorXd::LinSpaced(40, -1.0, 1.0);
  write_matrix_text(dir / "A.txt", a);
  write_npy(dir / "b.npy", b);
  const Outcome outcome = run_kelvin(dir, {"solve", "--matrix", (dir / "A.txt").string(), "--rhs",
                                           (dir / "b.npy").string(), "--json"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const json result = parse_stdout(outcome);
  ASSERT_EQ(result["x"].size(), 40u);
  EXPECT_LE(result.value("residual", 1.0), 1e-3);
  EXPECT_EQ(result["summary"].value("blocks", 0), 5);
  EXPECT_GT(result["energy"].value("total_j", 0.0), 0.0);
  Eigen::VectorXd x(40);
  for (Eigen::Index i = 0; i < 40; ++i)
    x(i) = result["x"][static_cast<std::size_t>(i)].get<double>();
  EXPECT_NEAR((b - a * x).norm() / b.norm(), result.value("residual", 1.0), 1e-9);
  // "stderr" is there as on the direct path (a script reading it must not crash), and says what
  // it is: the block solve's error estimate.
  ASSERT_TRUE(result["stderr"].is_array()) << outcome.out;
  EXPECT_EQ(result["stderr"].size(), 40u);
  EXPECT_NE(result["summary"].value("stderr_method", "").find("estimated error"),
            std::string::npos);
}

TEST(KelvinCli, AMistypedCommandSuggestsTheClosestOne) {
  TempDir dir;
  const Outcome outcome = run_kelvin(dir, {"solv", "--matrix", "A.txt"});
  EXPECT_EQ(outcome.exit_code, 2);
  const std::string line = expect_one_error_line(outcome);
  EXPECT_NE(line.find("unknown command 'solv'; did you mean 'solve'?"), std::string::npos) << line;
  const Outcome far = run_kelvin(dir, {"frobnicate"});
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_NE(expect_one_error_line(far).find("the commands are find, probe, solve"),
            std::string::npos);
}

// A deadline that passes says which option sets it, with its value: a 400-unknown block solve
// (hundreds of block solves, about 0.2 s on this machine) under a 10 ms deadline.
TEST(KelvinCli, ATimeoutNamesTheOptionThatSetsTheDeadline) {
  TempDir dir;
  constexpr Eigen::Index kN = 400;
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(kN, kN) * 2.0;
  for (Eigen::Index i = 0; i + 1 < kN; ++i)
    a(i, i + 1) = a(i + 1, i) = -0.6;
  write_matrix_text(dir / "A.txt", a);
  write_npy(dir / "b.npy", Eigen::VectorXd(Eigen::VectorXd::Ones(kN)));
  const Outcome outcome = run_kelvin(dir, {"solve", "--matrix", (dir / "A.txt").string(), "--rhs",
                                           (dir / "b.npy").string(), "--timeout-s", "0.01"});
  EXPECT_EQ(outcome.exit_code, 1);
  const std::string line = expect_one_error_line(outcome);
  EXPECT_NE(line.find("timeout"), std::string::npos) << line;
  EXPECT_NE(line.find("the deadline is --timeout-s 0.01"), std::string::npos) << line;
}

TEST(KelvinCli, ProbeHonoursTheCellCountInTheUri) {
  TempDir dir;
  const Outcome outcome = run_kelvin(dir, {"probe", "--uri", "sim:resonator?cells=16", "--json"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(parse_stdout(outcome).value("cells", 0), 16);
}

TEST(KelvinCli, SolveJsonAgreesWithEigenWithinSixStandardErrors) {
  TempDir dir;
  const Eigen::MatrixXd a = small_spd_matrix();
  Eigen::VectorXd b(4);
  b << 1.0, -0.5, 0.25, 0.75;
  write_matrix_text(dir / "A.txt", a);
  write_npy(dir / "b.npy", b);
  const Outcome outcome = run_kelvin(dir, {"solve", "--matrix", (dir / "A.txt").string(), "--rhs",
                                           (dir / "b.npy").string(), "--json"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const json result = parse_stdout(outcome);
  ASSERT_TRUE(result["x"].is_array());
  ASSERT_TRUE(result["stderr"].is_array());
  ASSERT_EQ(result["x"].size(), 4u);
  ASSERT_EQ(result["stderr"].size(), 4u);
  EXPECT_TRUE(result["summary"].contains("brief"));
  EXPECT_EQ(result["summary"].value("unknowns", 0), 4);
  ASSERT_TRUE(result.contains("energy"));
  for (const char* key : {"analog_j", "dac_j", "adc_j", "io_j", "host_j"})
    EXPECT_GT(result["energy"].value(key, 0.0), 0.0) << key;

  const Eigen::VectorXd expected = a.ldlt().solve(b);
  // The residual of an x within 6 standard errors of the solution is at most || |A| 6 se ||.
  Eigen::VectorXd se_vector(4);
  for (std::size_t i = 0; i < 4; ++i)
    se_vector(static_cast<Eigen::Index>(i)) = result["stderr"][i].get<double>();
  EXPECT_LE(result.value("residual", 1.0), (a.cwiseAbs() * (6.0 * se_vector)).norm() / b.norm());
  for (std::size_t i = 0; i < 4; ++i) {
    const double x = result["x"][i].get<double>();
    const double se = result["stderr"][i].get<double>();
    EXPECT_GT(se, 0.0) << "component " << i;
    EXPECT_LE(std::abs(x - expected(static_cast<Eigen::Index>(i))), 6.0 * se)
        << "component " << i << ": board " << x << ", Eigen "
        << expected(static_cast<Eigen::Index>(i)) << ", stderr " << se;
  }
}

TEST(KelvinCli, SolveRejectsANonSymmetricMatrixWithOneErrorLine) {
  TempDir dir;
  Eigen::MatrixXd a = small_spd_matrix();
  a(0, 1) += 0.5;
  write_matrix_text(dir / "A.txt", a);
  write_vector_text(dir / "b.txt", Eigen::VectorXd::Ones(4));
  const Outcome outcome = run_kelvin(
      dir, {"solve", "--matrix", (dir / "A.txt").string(), "--rhs", (dir / "b.txt").string()});
  const std::string line = expect_one_error_line(outcome);
  EXPECT_NE(line.find("symmetric"), std::string::npos) << line;
}

TEST(KelvinCli, SolveReportsAMissingFile) {
  TempDir dir;
  write_vector_text(dir / "b.txt", Eigen::VectorXd::Ones(4));
  const Outcome outcome = run_kelvin(
      dir, {"solve", "--matrix", (dir / "absent.txt").string(), "--rhs", (dir / "b.txt").string()});
  EXPECT_EQ(outcome.exit_code, 1);
  const std::string line = expect_one_error_line(outcome);
  EXPECT_NE(line.find("absent.txt"), std::string::npos) << line;
}

TEST(KelvinCli, BadUriFails) {
  TempDir dir;
  const Outcome outcome = run_kelvin(dir, {"probe", "--uri", "nope:thing", "--json"});
  EXPECT_EQ(outcome.exit_code, 1);
  expect_one_error_line(outcome);
}

TEST(KelvinCli, MissingRequiredOptionIsAUsageError) {
  TempDir dir;
  const Outcome outcome = run_kelvin(dir, {"solve", "--rhs", "b.txt"});
  EXPECT_EQ(outcome.exit_code, 2);
  const std::string line = expect_one_error_line(outcome);
  EXPECT_NE(line.find("--matrix"), std::string::npos) << line;
}

TEST(KelvinCli, ProbeJsonDescribesAPbitBoard) {
  TempDir dir;
  const Outcome outcome =
      run_kelvin(dir, {"probe", "--uri", "sim:pbit?rows=70&cols=70&degree=12&seed=1", "--json"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const json probe = parse_stdout(outcome);
  EXPECT_EQ(probe.value("family", ""), "pbit");
  EXPECT_EQ(probe.value("cells", 0), 4900);
  ASSERT_TRUE(probe.contains("pbit"));
  EXPECT_EQ(probe["pbit"].value("degree", 0), 12);
  EXPECT_EQ(probe["pbit"]["weight"].value("max_code", 0), 6);
  EXPECT_EQ(probe["pbit"]["beta"].value("lsb", 0.0), 1.0 / 256.0);
}

TEST(KelvinCli, SampleJsonGivesAMeanPerModelNode) {
  TempDir dir;
  const auto model = dir.write(
      "model.json", R"({"nodes": 3, "edges": [[0, 1, 2], [1, 2, -1]], "bias": [1, 0, 0]})");
  const Outcome outcome = run_kelvin(
      dir, {"sample", "--uri", "sim:pbit?rows=4&cols=4&degree=8", "--model", model.string(),
            "--sweeps", "500", "--chains", "2", "--beta", "0.5", "--json"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const json result = parse_stdout(outcome);
  ASSERT_TRUE(result["mean"].is_array());
  EXPECT_EQ(result["mean"].size(), 3u);
  EXPECT_EQ(result.value("samples", 0), 1000);
  EXPECT_EQ(result.value("beta", 0.0), 0.5);
  ASSERT_TRUE(result["edge_correlations"].is_array());
  EXPECT_EQ(result["edge_correlations"].size(), 2u);
  // The p-bit ledger: 16 nodes x 2 chains x (burn-in + 500) sweeps of updates at 2 fJ each.
  ASSERT_TRUE(result.contains("energy"));
  const int updates = 16 * 2 * (500 + result.value("burn_in", -1000));
  EXPECT_EQ(result["energy"].value("cell_sample_periods", 0), updates);
  EXPECT_DOUBLE_EQ(result["energy"].value("analog_j", 0.0), updates * 2e-15);
  EXPECT_GT(result["energy"].value("gpu_equivalent_j", 0.0), 0.0);
  for (const auto& m : result["mean"]) {
    EXPECT_GE(m.get<double>(), -1.0);
    EXPECT_LE(m.get<double>(), 1.0);
  }
}

TEST(KelvinCli, SampleRefusesAnOffLatticeEdgeWithOneErrorLine) {
  TempDir dir;
  const auto model = dir.write("model.json", R"({"nodes": 4, "edges": [[0, 3, 1]]})");
  const Outcome outcome = run_kelvin(dir, {"sample", "--model", model.string()});
  EXPECT_EQ(outcome.exit_code, 1);
  const std::string line = expect_one_error_line(outcome);
  EXPECT_NE(line.find("(0, 3) is not a lattice edge for degree 12 on 70x70"), std::string::npos)
      << line;
}

TEST(KelvinCli, SampleReportsMalformedModelJson) {
  TempDir dir;
  const auto model = dir.write("model.json", R"({"nodes": 4, "edges": [[0, "x", 1]]})");
  const Outcome outcome = run_kelvin(dir, {"sample", "--model", model.string()});
  EXPECT_EQ(outcome.exit_code, 1);
  const std::string line = expect_one_error_line(outcome);
  EXPECT_NE(line.find("edges[0][1] must be an integer"), std::string::npos) << line;
}

// A frustrated 4-cycle (three couplings +2, one -2) on nodes 0, 1, 4, 5 of a 4x4 lattice: at
// most three of its four bonds can be satisfied, so the ground energy is -(2 + 2 + 2 - 2) = -4.
TEST(KelvinCli, SampleTemperingJsonReportsTheLadderAndReachesTheTarget) {
  TempDir dir;
  const auto model = dir.write(
      "model.json", R"({"nodes": 6, "edges": [[0, 1, 2], [0, 4, 2], [1, 5, 2], [4, 5, -2]]})");
  const Outcome outcome =
      run_kelvin(dir, {"sample", "--uri", "sim:pbit?rows=4&cols=4&degree=8", "--model",
                       model.string(), "--tempering", "0.2:2:4", "--exchange-every", "5",
                       "--sweeps", "400", "--burn-in", "0", "--target-energy", "-4", "--json"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const json result = parse_stdout(outcome);
  EXPECT_EQ(result.value("chains", 0), 4);
  ASSERT_TRUE(result.contains("tempering")) << outcome.out;
  const json& t = result["tempering"];
  ASSERT_EQ(t["betas"].size(), 4u);
  EXPECT_NEAR(t["betas"][0].get<double>(), 0.2, 1.0 / 512);  // rounded to the Q8.8 code
  EXPECT_EQ(t["betas"][3].get<double>(), 2.0);
  EXPECT_EQ(t["acceptance"].size(), 3u);
  EXPECT_EQ(t.value("best_energy", 0), -4);
  EXPECT_EQ(t.value("target_energy", 0), -4);
  ASSERT_TRUE(t["sweeps_to_target"].is_number()) << t.dump();
  EXPECT_EQ(t["sweeps_to_target"].get<int>(), result.value("sweeps", -1));
  EXPECT_GE(t["coldest_energy_trace"].value("points", 0), 1);
  EXPECT_EQ(result["mean"].size(), 6u);
  EXPECT_EQ(result["best_state"].size(), 6u);
  // The ledger: 16 nodes x 4 chains x the sweeps run.
  EXPECT_EQ(result["energy"].value("cell_sample_periods", 0),
            16 * 4 * result.value("sweeps", -1000));
}

TEST(KelvinCli, SampleBetaScheduleAnnealsLinearlyOrFollowsAList) {
  TempDir dir;
  const auto model = dir.write("model.json", R"({"nodes": 2, "edges": [[0, 1, 1]]})");
  const auto sample = [&](const std::string& schedule) {
    const Outcome outcome =
        run_kelvin(dir, {"sample", "--uri", "sim:pbit?rows=2&cols=2&degree=8", "--model",
                         model.string(), "--sweeps", "50", "--beta-schedule", schedule, "--json"});
    EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
    return parse_stdout(outcome);
  };
  const json anneal = sample("0.1:1.0:10");
  EXPECT_EQ(anneal["beta_schedule"].value("length", 0), 10);
  EXPECT_NEAR(anneal["beta_schedule"].value("first", 0.0), 0.1, 1.0 / 512);
  EXPECT_EQ(anneal.value("beta", 0.0), 1.0);  // the last entry holds
  const json list = sample("0.5,0.75,1.5");
  EXPECT_EQ(list["beta_schedule"].value("length", 0), 3);
  EXPECT_EQ(list.value("beta", 0.0), 1.5);
  EXPECT_EQ(list.value("beta_code", 0), 384);
}

TEST(KelvinCli, SampleRefusesMalformedTemperingAndScheduleSpecs) {
  TempDir dir;
  const auto model = dir.write("model.json", R"({"nodes": 2, "edges": [[0, 1, 1]]})");
  const auto refused = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"sample", "--uri", "sim:pbit?rows=2&cols=2&degree=8",
                                     "--model", model.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    const Outcome outcome = run_kelvin(dir, args);
    EXPECT_EQ(outcome.exit_code, 2) << outcome.err;
    return expect_one_error_line(outcome);
  };
  std::string line = refused({"--tempering", "1.0:0.5:4"});
  EXPECT_NE(line.find("0 < BMIN < BMAX"), std::string::npos) << line;
  line = refused({"--tempering", "0.1:1:1"});
  EXPECT_NE(line.find("R = 1"), std::string::npos) << line;
  line = refused({"--beta-schedule", "0.5,x"});
  EXPECT_NE(line.find("'x' is not a number"), std::string::npos) << line;
  line = refused({"--tempering", "0.1:1:4", "--beta", "2"});
  EXPECT_NE(line.find("--beta"), std::string::npos) << line;
  line = refused({"--exchange-every", "5"});
  EXPECT_NE(line.find("--tempering"), std::string::npos) << line;
}

TEST(KelvinCli, DemoJsonHasEightComponents) {
  TempDir dir;
  const Outcome outcome = run_kelvin(dir, {"demo", "--json"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const json demo = parse_stdout(outcome);
  for (const char* key : {"x", "stderr", "digital", "z"}) {
    ASSERT_TRUE(demo[key].is_array()) << key;
    EXPECT_EQ(demo[key].size(), 8u) << key;
  }
  EXPECT_TRUE(demo["summary"].is_object());
}

}  // namespace
}  // namespace kelvin::tools::matrix_io
