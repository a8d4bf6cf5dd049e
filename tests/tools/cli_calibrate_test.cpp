// `kelvin calibrate` end to end: stores <serial>.json in KELVIN_CALIBRATION_DIR (a temp dir, never
// the user's home) or FILE.json with -o, refuses -o FILE.h5 as a usage error, and `solve` then
// applies the board's file by default, a given one with --calibration FILE, or none, saying
// which in its JSON.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"
#include "test_files.hpp"

namespace kelvin::tools::matrix_io {
namespace {

using nlohmann::json;
using testing::Outcome;
using testing::run_kelvin;
using testing::small_spd_matrix;
using testing::TempDir;

const std::string kUri = "sim:resonator?seed=5&imperfections=typical";
const std::string kQuick[] = {"--mean-samples", "65536", "--drift-samples", "16384"};

std::vector<std::string> calibrate_args(std::vector<std::string> extra) {
  std::vector<std::string> args{"calibrate", "--uri", kUri};
  args.insert(args.end(), std::begin(kQuick), std::end(kQuick));
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// The solve's summary "calibration" and "calibration_file", with --calibration `selection` ("" for
// the default).
std::pair<std::string, std::string> solve_calibration(const TempDir& dir,
                                                      const std::string& selection) {
  std::vector<std::string> args{"solve",
                                "--uri",
                                kUri,
                                "--matrix",
                                (dir / "A.txt").string(),
                                "--rhs",
                                (dir / "b.txt").string(),
                                "--json"};
  if (!selection.empty()) {
    args.push_back("--calibration");
    args.push_back(selection);
  }
  const Outcome o = run_kelvin(dir, args);
  EXPECT_EQ(o.exit_code, 0) << o.err;
  const json s = json::parse(o.out)["summary"];
  return {s.value("calibration", "?"), s.value("calibration_file", "?")};
}

TEST(KelvinCli, CalibrateStoresBySerialAndSolveAppliesIt) {
  TempDir dir;
  ::setenv("KELVIN_CALIBRATION_DIR", (dir / "cal").c_str(), 1);
  write_matrix_text(dir / "A.txt", small_spd_matrix());
  write_matrix_text(dir / "b.txt", Eigen::MatrixXd::Constant(small_spd_matrix().rows(), 1, 0.5));

  EXPECT_EQ(solve_calibration(dir, "").first, "none");  // nothing stored yet

  const Outcome stored = run_kelvin(dir, calibrate_args({"--json"}));
  ASSERT_EQ(stored.exit_code, 0) << stored.err;
  const json out = json::parse(stored.out);
  const std::string file = (dir / "cal" / "SIM-RES-8-5.json").string();
  EXPECT_EQ(out.value("file", ""), file);
  EXPECT_TRUE(std::filesystem::exists(file));
  const std::string id = out["calibration"].value("calibration_id", "");
  EXPECT_EQ(out["summary"].value("calibration_id", ""), id);
  EXPECT_EQ(out["calibration"]["cells"].size(), 8u);

  EXPECT_EQ(solve_calibration(dir, ""), std::make_pair(id, file));  // looked up by serial
  EXPECT_EQ(solve_calibration(dir, "none"), std::make_pair(std::string("none"), std::string()));

  const Outcome other = run_kelvin(dir, calibrate_args({"-o", (dir / "x.json").string()}));
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "x.json"));
  EXPECT_EQ(solve_calibration(dir, (dir / "x.json").string()).second, (dir / "x.json").string());
  ::unsetenv("KELVIN_CALIBRATION_DIR");
}

TEST(KelvinCli, CalibrateKeepsARunFileAndRefusesAnotherBoardsFile) {
  TempDir dir;
  // -o FILE.h5 keeps the run as a run file and still stores the calibration in the directory.
  ::setenv("KELVIN_CALIBRATION_DIR", (dir / "cal").c_str(), 1);
  const Outcome h5 = run_kelvin(dir, calibrate_args({"-o", (dir / "run.h5").string()}));
  ::unsetenv("KELVIN_CALIBRATION_DIR");
  EXPECT_EQ(h5.exit_code, 0) << h5.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "run.h5"));
  EXPECT_TRUE(std::filesystem::exists(dir / "cal" / "SIM-RES-8-5.json"));
  const Outcome txt = run_kelvin(dir, calibrate_args({"-o", (dir / "c.txt").string()}));
  EXPECT_EQ(txt.exit_code, 2);
  EXPECT_NE(txt.err.find("ends in .json"), std::string::npos) << txt.err;

  const Outcome made = run_kelvin(dir, calibrate_args({"-o", (dir / "c.json").string()}));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  write_matrix_text(dir / "A.txt", small_spd_matrix());
  write_matrix_text(dir / "b.txt", Eigen::MatrixXd::Constant(small_spd_matrix().rows(), 1, 0.5));
  const Outcome wrong =
      run_kelvin(dir, {"solve", "--uri", "sim:resonator?seed=6&imperfections=typical", "--matrix",
                       (dir / "A.txt").string(), "--rhs", (dir / "b.txt").string(), "--calibration",
                       (dir / "c.json").string()});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("for board SIM-RES-8-5, not for this board SIM-RES-8-6"),
            std::string::npos)
      << wrong.err;
}

}  // namespace
}  // namespace kelvin::tools::matrix_io
