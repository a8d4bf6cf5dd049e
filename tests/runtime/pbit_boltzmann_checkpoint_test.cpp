// BoltzmannTrainer checkpoints (round trip, bit-identical continued training, refusals) and the
// validation of options and models (each message names the field or defect).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "boltzmann_fixture.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/testing/boards.hpp"
#include "kelvin/testing/errors.hpp"

namespace kelvin::runtime {
namespace {

using namespace std::chrono_literals;
using kelvin::testing::kind_of;
using kelvin::testing::message_of;
using kelvin::testing::open_pbit_board;
using testing::grid_model;

namespace fs = std::filesystem;

constexpr const char* kUri = "sim:pbit?rows=8&cols=8&degree=8&seed=21";

// A 2 x 2 grid, node 3 hidden, with stochastic rounding and momentum: every piece of host state
// a checkpoint must carry.
BoltzmannModel small_model() {
  BoltzmannModel m = grid_model(2, 2, 8);
  m.roles[3] = NodeRole::kHidden;
  m.edges[0].weight = 0.7;
  m.edges[1].trainable = false;
  m.edges[1].weight = -1.2;
  return m;
}

BoltzmannOptions small_options() {
  BoltzmannOptions o;
  o.batch = 4;
  o.free_copies = 4;
  o.chains = 2;
  o.momentum = 0.5;
  o.weight_decay = 0.01;
  o.rounding = Rounding::kStochastic;
  o.schedule = LearningRateSchedule::kCosine;
  o.decay_steps = 7;
  o.beta_schedule = {0.5, 0.75, 1.0};
  return o;
}

BoltzmannOptions copies(std::uint32_t batch, std::uint32_t free_copies) {
  BoltzmannOptions o;
  o.batch = batch;
  o.free_copies = free_copies;
  return o;
}

std::vector<BoltzmannExample> batch_at(int t) {
  std::vector<BoltzmannExample> b(4);
  for (int k = 0; k < 4; ++k)
    b[k].visible = {(t + k) % 2 ? 1 : -1, (t * k) % 3 ? 1 : -1, k % 2 ? -1 : 1};
  return b;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() /
                  ("kelvin_boltzmann_" +
                   std::to_string(::testing::UnitTest::GetInstance()->current_test_info()->line()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

TEST(BoltzmannCheckpoint, ContinuedTrainingIsBitIdenticalAfterARoundTrip) {
  // Two fresh boards with the same seed replay the same runs. On the first the trainer simply
  // goes on after saving; on the second a trainer loaded from the checkpoint goes on. The
  // board's own state (chains, sweep counter) is the same in both, so any host state the
  // checkpoint lost would show in the parameters.
  TempDir dir;
  const fs::path a = dir.path / "a.json", b = dir.path / "b.json";
  std::vector<double> continued, reloaded;
  {
    driver::PbitBoard board = open_pbit_board(kUri);
    BoltzmannTrainer t(board, small_model(), small_options());
    for (int s = 0; s < 5; ++s)
      t.step(batch_at(s));
    t.save_checkpoint(a.string());
    for (int s = 5; s < 10; ++s)
      t.step(batch_at(s));
    for (const auto& e : t.model().edges)
      continued.push_back(e.weight);
    continued.insert(continued.end(), t.model().bias.begin(), t.model().bias.end());
  }
  {
    driver::PbitBoard board = open_pbit_board(kUri);
    BoltzmannTrainer first(board, small_model(), small_options());
    for (int s = 0; s < 5; ++s)
      first.step(batch_at(s));
    first.save_checkpoint(b.string());
    BoltzmannTrainer t = BoltzmannTrainer::load_checkpoint(board, b.string());
    EXPECT_EQ(t.steps_done(), 5u);
    EXPECT_EQ(t.placement(), first.placement());
    for (int s = 5; s < 10; ++s)
      t.step(batch_at(s));
    for (const auto& e : t.model().edges)
      reloaded.push_back(e.weight);
    reloaded.insert(reloaded.end(), t.model().bias.begin(), t.model().bias.end());
  }
  EXPECT_EQ(read_text(a), read_text(b));
  ASSERT_EQ(continued.size(), reloaded.size());
  for (std::size_t k = 0; k < continued.size(); ++k)
    EXPECT_EQ(continued[k], reloaded[k]) << "parameter " << k;  // bit for bit
  EXPECT_NE(continued[0], 0.7);                                 // it did train
  EXPECT_EQ(continued[1], -1.2);                                // not trainable
  EXPECT_FALSE(fs::exists(dir.path / "a.json.tmp"));
}

TEST(BoltzmannCheckpoint, CorruptOrMismatchedCheckpointsAreRefusedClearly) {
  TempDir dir;
  const fs::path good = dir.path / "good.json", bad = dir.path / "bad.json";
  driver::PbitBoard board = open_pbit_board(kUri);
  BoltzmannTrainer(board, small_model(), small_options()).save_checkpoint(good.string());
  const std::string text = read_text(good);
  auto refusal = [&](const std::string& content) {
    write_text(bad, content);
    return message_of([&] { BoltzmannTrainer::load_checkpoint(board, bad.string()); });
  };
  EXPECT_NE(refusal(text.substr(0, text.size() / 2)).find("is not JSON"), std::string::npos);
  std::string other = text;
  other.replace(other.find("kelvin.boltzmann-machine"), 24, "kelvin.quartic-generator");
  EXPECT_NE(refusal(other).find("is not of kind"), std::string::npos);
  std::string version = text;
  version.replace(version.find("\"version\": 1"), 12, "\"version\": 2");
  EXPECT_NE(refusal(version).find("version 2"), std::string::npos);
  std::string missing = text;
  missing.replace(missing.find("\"steps_done\""), 12, "\"steps_gone\"");
  EXPECT_NE(refusal(missing).find("steps_done"), std::string::npos);
  EXPECT_NE(message_of([&] {
              BoltzmannTrainer::load_checkpoint(board, (dir.path / "none.json").string());
            }).find("cannot be read"),
            std::string::npos);

  driver::PbitBoard other_board = open_pbit_board("sim:pbit?rows=8&cols=9&degree=8&seed=21");
  EXPECT_EQ(kind_of([&] { BoltzmannTrainer::load_checkpoint(other_board, good.string()); }),
            common::ErrorKind::kNotSupported);
  EXPECT_NE(message_of([&] {
              BoltzmannTrainer::load_checkpoint(other_board, good.string());
            }).find("trained on a 8x8 lattice of degree 8; this board's is 8x9"),
            std::string::npos);
}

TEST(BoltzmannOptionsValidation, EachBadFieldIsNamed) {
  const std::vector<std::pair<std::string, std::function<void(BoltzmannOptions&)>>> cases = {
      {"beta =", [](auto& o) { o.beta = -1; }},
      {"beta_schedule[1]",
       [](auto& o) {
         o.beta_schedule = {1.0, std::nan("")};
       }},
      {"batch", [](auto& o) { o.batch = 0; }},
      {"free_copies", [](auto& o) { o.free_copies = 1; }},
      {"chains", [](auto& o) { o.chains = 0; }},
      {"sweeps", [](auto& o) { o.sweeps = 0; }},
      {"sample_every", [](auto& o) { o.sample_every = 41; }},
      {"learning_rate", [](auto& o) { o.learning_rate = 0; }},
      {"decay_steps", [](auto& o) { o.decay_steps = 0; }},
      {"momentum", [](auto& o) { o.momentum = 1.0; }},
      {"weight_decay", [](auto& o) { o.weight_decay = -0.1; }},
      {"timeout", [](auto& o) { o.timeout = 0ms; }},
  };
  for (const auto& [name, spoil] : cases) {
    BoltzmannOptions o;
    spoil(o);
    const std::string m = message_of([&] { o.validate(); });
    EXPECT_NE(m.find("BoltzmannOptions"), std::string::npos) << m;
    EXPECT_NE(m.find(name), std::string::npos) << name << ": " << m;
  }
  driver::PbitBoard board = open_pbit_board(kUri);
  BoltzmannOptions o;
  o.chains = board.pbit().max_chains + 1;
  EXPECT_NE(message_of([&] { o.validate(board.pbit()); }).find("chains"), std::string::npos);
  o = {};
  o.beta = 1000.0;
  EXPECT_NE(message_of([&] { o.validate(board.pbit()); }).find("beta range"), std::string::npos);
}

TEST(BoltzmannOptionsValidation, TrainerRefusesWhatTheBoardCannotHold) {
  driver::PbitBoard board = open_pbit_board(kUri);
  // 8 x 8 holds 16 copies of a 2 x 2 model: batch 12 + free 8 do not fit.
  BoltzmannOptions o;
  o.batch = 12;
  const std::string fit = message_of([&] { BoltzmannTrainer(board, small_model(), o); });
  EXPECT_NE(fit.find("20 copies"), std::string::npos) << fit;
  EXPECT_NE(fit.find("only 16 fit"), std::string::npos) << fit;
  // Inputs need one free copy per example.
  BoltzmannModel cond = small_model();
  cond.roles[0] = NodeRole::kInput;
  o = {};
  o.batch = 4;
  o.free_copies = 6;
  EXPECT_NE(message_of([&] { BoltzmannTrainer(board, cond, o); }).find("free_copies = 6"),
            std::string::npos);
  // A placement whose edge is not a lattice edge, a weight beyond the cap, a bad model.
  BoltzmannModel far = small_model();
  far.placement[1] = 5;
  EXPECT_EQ(kind_of([&] { BoltzmannTrainer(board, far, {}); }), common::ErrorKind::kNotSupported);
  BoltzmannModel heavy = small_model();
  heavy.edges[0].weight = 6.5;
  EXPECT_EQ(kind_of([&] { BoltzmannTrainer(board, heavy, {}); }), common::ErrorKind::kOutOfRange);
  BoltzmannModel loop = small_model();
  loop.edges.push_back({2, 2, 0.0, true});
  EXPECT_NE(message_of([&] { BoltzmannTrainer(board, loop, {}); }).find("self loop"),
            std::string::npos);
  // A batch of the wrong size, or a value that is not +-1.
  BoltzmannTrainer t(board, small_model(), copies(4, 4));
  auto b = batch_at(0);
  EXPECT_NE(message_of([&] { t.step(std::span(b).subspan(0, 3)); }).find("batch"),
            std::string::npos);
  b[2].visible[1] = 0;
  EXPECT_NE(message_of([&] { t.step(b); }).find("example 2: visible[1] = 0"), std::string::npos);
}

TEST(BoltzmannPlacement, EmbedsAModelWithoutAPlacementAndSamplesIt) {
  driver::PbitBoard board = open_pbit_board(kUri);
  BoltzmannModel m = small_model();
  m.placement.clear();
  BoltzmannTrainer t(board, m, copies(2, 2));
  EXPECT_EQ(t.placement().size(), 4u);
  const auto b = batch_at(0);
  const auto r = t.estimate(std::span(b).subspan(0, 2));
  EXPECT_EQ(r.summary.placement, "embedded");
  EXPECT_GT(r.summary.energy.total_j(), 0.0);
  EXPECT_GT(r.summary.energy.io_bytes, 0u);
  EXPECT_FALSE(r.summary.updated);
  EXPECT_EQ(r.summary.sweeps, 60u);                 // 20 burn-in + 40
  EXPECT_EQ(r.summary.samples_per_copy, 4u * 20u);  // chains x sweeps / sample_every
  EXPECT_NE(r.summary.full_report().find("codes changed"), std::string::npos);
  EXPECT_NE(r.summary.brief_report().find("(estimate)"), std::string::npos);
  std::printf("[   INFO   ] %s\n", r.summary.brief_report().c_str());
  const BoltzmannSamples samples = t.sample(100);
  ASSERT_EQ(samples.visible.size(), 100u);
  for (const auto& s : samples.visible)
    ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(samples.summary.samples, 100u);
  EXPECT_GE(samples.summary.runs, 1u);
  EXPECT_GT(samples.summary.energy.total_j(), 0.0);
  EXPECT_GT(samples.summary.device_time_s, 0.0);
  std::printf("[   INFO   ] %s\n", samples.summary.brief_report().c_str());
}

}  // namespace
}  // namespace kelvin::runtime
