// `kelvin train-ebm` and `kelvin generate` end to end (run as child processes on a small
// emulated p-bit board), and the data file reader they share (ebm_data_file.hpp).
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "ebm_data_file.hpp"
#include "test_files.hpp"

namespace kelvin::tools::matrix_io {
namespace {

using nlohmann::json;
using testing::expect_one_error_line;
using testing::Outcome;
using testing::parse_stdout;
using testing::run_kelvin;
using testing::TempDir;

constexpr const char* kBoard = "sim:pbit?rows=12&cols=12&degree=12&seed=1";
// Six visible columns, means +0.75 / -0.75 alternating (7 of 8 examples agree in each column).
constexpr const char* kData =
    "# six pixels, alternating on and off\n"
    "1 0 1 0 1 0\n"
    "101010\n"
    "1,0,1,0,1,0\n"
    "0 0 1 0 1 0   # the first pixel off\n"
    "1 1 1 0 1 0\n"
    "1 0 0 0 1 0\n"
    "\n"
    "1 0 1 1 1 0\n"
    "1 0 1 0 0 1\n";

// A short run: 6 visible + 2 hidden nodes (a 3 x 3 region), 4 clamped and 4 free copies.
std::vector<std::string> train_args(const TempDir& dir, const std::string& steps) {
  return {"train-ebm",
          "--uri",
          kBoard,
          "--data",
          (dir / "data.txt").string(),
          "--hidden",
          "2",
          "--steps",
          steps,
          "--batch",
          "4",
          "--free-copies",
          "4",
          "--burn-in",
          "10",
          "--sweeps",
          "20",
          "--checkpoint",
          (dir / "model.json").string(),
          "--json"};
}

std::vector<std::vector<int>> lines_of_bits(const std::string& text) {
  std::vector<std::vector<int>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream values(line);
    std::vector<int> row;
    for (int v; values >> v;)
      row.push_back(v);
    rows.push_back(row);
  }
  return rows;
}

TEST(KelvinTrainEbm, TrainsWritesACheckpointAndReportsEveryStep) {
  TempDir dir;
  dir.write("data.txt", kData);
  const Outcome o = run_kelvin(dir, train_args(dir, "3"));
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const json r = parse_stdout(o);
  EXPECT_EQ(r["data"].value("examples", 0), 8);
  EXPECT_EQ(r["model"].value("visible", 0), 6);
  EXPECT_EQ(r["model"].value("hidden", 0), 2);
  EXPECT_EQ(r["settings"].value("batch", 0), 4);
  EXPECT_EQ(r.value("steps_done", 0), 3);
  ASSERT_EQ(r["steps"].size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(r["steps"][k].value("step", 0u), k + 1);
    EXPECT_GE(r["steps"][k].value("moment_mismatch", -1.0), 0.0);
    EXPECT_GT(r["steps"][k].value("gradient_norm", -1.0), 0.0);
  }
  EXPECT_EQ(r["summary"].value("step", 0), 3);
  EXPECT_GT(r["energy"].value("total_j", 0.0), 0.0);
  EXPECT_GT(r.value("device_time_s", 0.0), 0.0);
  ASSERT_TRUE(std::filesystem::exists(dir / "model.json"));
  EXPECT_EQ(json::parse(std::ifstream(dir / "model.json")).value("kind", ""),
            "kelvin.boltzmann-machine");
}

TEST(KelvinTrainEbm, ResumeContinuesTheModelAndRefusesNewTrainingOptions) {
  TempDir dir;
  dir.write("data.txt", kData);
  ASSERT_EQ(run_kelvin(dir, train_args(dir, "2")).exit_code, 0);
  const std::string checkpoint = (dir / "model.json").string();
  const Outcome more = run_kelvin(
      dir, {"train-ebm", "--uri", kBoard, "--data", (dir / "data.txt").string(), "--resume",
            checkpoint, "--steps", "2", "--checkpoint", (dir / "more.json").string(), "--json"});
  ASSERT_EQ(more.exit_code, 0) << more.err;
  const json r = parse_stdout(more);
  EXPECT_EQ(r.value("steps_done", 0), 4);
  EXPECT_EQ(r["steps"][0].value("step", 0), 3);
  EXPECT_EQ(r.value("resumed_from", ""), checkpoint);
  EXPECT_EQ(r["settings"].value("free_copies", 0), 4);  // the checkpoint's, not the default

  const Outcome refused =
      run_kelvin(dir, {"train-ebm", "--uri", kBoard, "--data", (dir / "data.txt").string(),
                       "--resume", checkpoint, "--batch", "8"});
  EXPECT_EQ(refused.exit_code, 2);
  const std::string line = expect_one_error_line(refused);
  EXPECT_NE(line.find("--batch"), std::string::npos) << line;
  EXPECT_NE(line.find("--resume"), std::string::npos) << line;
}

// The samples come from the trained model: its visible biases start at the data's
// independent-pixel model (b = atanh(0.75) = 0.97, code 1, so <s> = tanh(1) = 0.76 per column
// with zero couplings), and 3 short steps move them little. With 64 samples a column's wrong
// majority needs 32 of 64 draws at probability 0.12 each: below 1e-12, even allowing the
// chains' autocorrelation to halve the effective sample size.
TEST(KelvinGenerate, DrawsSamplesOfTheTrainedModelOnePerLine) {
  TempDir dir;
  dir.write("data.txt", kData);
  ASSERT_EQ(run_kelvin(dir, train_args(dir, "3")).exit_code, 0);
  const std::string checkpoint = (dir / "model.json").string();
  const Outcome o =
      run_kelvin(dir, {"generate", "--uri", kBoard, "--checkpoint", checkpoint, "--samples", "64"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto rows = lines_of_bits(o.out);
  ASSERT_EQ(rows.size(), 64u);
  std::vector<int> on(6, 0);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 6u);
    for (std::size_t k = 0; k < 6; ++k) {
      ASSERT_TRUE(row[k] == 0 || row[k] == 1);
      on[k] += row[k];
    }
  }
  for (std::size_t k = 0; k < 6; ++k) {
    if (k % 2 == 0)
      EXPECT_GT(on[k], 32) << "column " << k;
    else
      EXPECT_LT(on[k], 32) << "column " << k;
  }

  const Outcome j =
      run_kelvin(dir, {"generate", "--uri", kBoard, "--checkpoint", checkpoint, "--samples", "5",
                       "--out", (dir / "samples.txt").string(), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const json r = parse_stdout(j);
  EXPECT_EQ(r.value("kind", ""), "kelvin.boltzmann-machine");
  EXPECT_EQ(r.value("samples", 0), 5);
  EXPECT_EQ(r.value("steps_done", 0), 3);
  // The file is a data file train-ebm reads back.
  const cli::EbmData back = cli::read_ebm_data((dir / "samples.txt").string());
  EXPECT_EQ(back.examples.size(), 5u);
  EXPECT_EQ(back.width(), 6u);
}

TEST(KelvinTrainEbm, ABadDataFileNamesTheFileAndLine) {
  TempDir dir;
  const auto bad = dir.write("bad.txt", "# header\n1 0 1\n\n0 1 2\n");
  const Outcome o = run_kelvin(dir, {"train-ebm", "--uri", kBoard, "--data", bad.string()});
  EXPECT_EQ(o.exit_code, 1);
  const std::string line = expect_one_error_line(o);
  EXPECT_NE(line.find(bad.string() + ":4: '2' is not a binary value (0/1 or -1/+1)"),
            std::string::npos)
      << line;

  const auto ragged = dir.write("ragged.txt", "1 0 1\n0 1\n");
  const std::string r = expect_one_error_line(
      run_kelvin(dir, {"train-ebm", "--uri", kBoard, "--data", ragged.string()}));
  EXPECT_NE(r.find(ragged.string() + ":2: 2 values, but line 1 has 3"), std::string::npos) << r;

  const Outcome missing = run_kelvin(dir, {"train-ebm", "--data", (dir / "absent").string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(expect_one_error_line(missing).find("absent"), std::string::npos);
  EXPECT_EQ(run_kelvin(dir, {"train-ebm", "--hidden", "2"}).exit_code, 2);  // --data missing
}

TEST(KelvinGenerate, RefusesACheckpointOfAnUnknownKind) {
  TempDir dir;
  const auto other = dir.write("other.json", R"({"kind": "kelvin.something-else"})");
  const Outcome o = run_kelvin(dir, {"generate", "--checkpoint", other.string()});
  EXPECT_EQ(o.exit_code, 1);
  const std::string line = expect_one_error_line(o);
  EXPECT_NE(line.find("\"kelvin.something-else\""), std::string::npos) << line;
  EXPECT_NE(line.find("kelvin.boltzmann-machine"), std::string::npos) << line;
}

TEST(EbmDataFile, ReadsEveryEncodingAsSpins) {
  TempDir dir;
  const auto pm = dir.write("pm.txt", "-1 +1 1\n1,-1,-1\n");
  const cli::EbmData d = cli::read_ebm_data(pm.string());
  EXPECT_EQ(d.encoding, "+-1");
  EXPECT_EQ(d.examples, (std::vector<std::vector<int>>{{-1, 1, 1}, {1, -1, -1}}));
  const auto words = dir.write("words.txt", "011\n100 # comment\n");
  EXPECT_EQ(cli::read_ebm_data(words.string()).examples, d.examples);
  const auto mixed = dir.write("mixed.txt", "0 1 1\n1 -1 -1\n");
  try {
    cli::read_ebm_data(mixed.string());
    ADD_FAILURE() << "mixed encodings accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("mixed.txt:2: uses +-1 values, but the lines before "
                                         "use 0/1"),
              std::string::npos)
        << e.what();
  }
}

TEST(EbmDataFile, MinibatchesVisitEveryExampleOncePerEpoch) {
  // 10 examples, batches of 4: steps 0..4 cover two epochs (20 draws), each a permutation.
  std::vector<std::size_t> drawn;
  for (std::uint64_t step = 0; step < 5; ++step) {
    const auto b = cli::minibatch_indices(10, step, 4, 7);
    drawn.insert(drawn.end(), b.begin(), b.end());
  }
  const std::set<std::size_t> first(drawn.begin(), drawn.begin() + 10);
  const std::set<std::size_t> second(drawn.begin() + 10, drawn.end());
  EXPECT_EQ(first.size(), 10u);
  EXPECT_EQ(second.size(), 10u);
  EXPECT_EQ(cli::minibatch_indices(10, 3, 4, 7), cli::minibatch_indices(10, 3, 4, 7));
  EXPECT_NE(cli::minibatch_indices(10, 0, 10, 7), cli::minibatch_indices(10, 0, 10, 8));
}

}  // namespace
}  // namespace kelvin::tools::matrix_io
