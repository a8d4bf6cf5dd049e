// The emulated p-bit board: sigmoid table, determinism, clamps, beta schedules and protocol
// errors, seen through the wire (PbitClient) or, for thread counts, the model itself.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "kelvin/firmware_protocol/pbit_lattice.hpp"
#include "kelvin/sim_backend/pbit_model.hpp"
#include "pbit_client.hpp"

namespace kelvin::sim_backend::testing {
namespace {

PbitConfig config_of(std::uint32_t rows, std::uint32_t cols, std::uint32_t degree,
                     std::uint64_t seed = 1) {
  PbitConfig c;
  c.rows = rows;
  c.cols = cols;
  c.degree = degree;
  c.seed = seed;
  return c;
}

// A fixed random model: weights uniform in [-6, 6], biases in [-10, 10]. Drawn from raw
// std::mt19937 output (whose sequence the standard fixes), not from a distribution object
// (whose algorithm is library-specific).
void random_model(std::uint32_t edges, std::uint32_t nodes, std::vector<int>& weights,
                  std::vector<int>& biases) {
  std::mt19937 gen(42);
  weights.clear();
  biases.clear();
  for (std::uint32_t e = 0; e < edges; ++e)
    weights.push_back(static_cast<int>(gen() % 13) - 6);
  for (std::uint32_t i = 0; i < nodes; ++i)
    biases.push_back(static_cast<int>(gen() % 21) - 10);
}

std::span<const std::uint8_t> span_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::uint32_t edge_count(std::uint32_t rows, std::uint32_t cols, std::uint32_t degree) {
  return static_cast<std::uint32_t>(
      firmware_protocol::make_pbit_lattice(rows, cols, degree).edges().size());
}

TEST(PbitLut, MatchesTheSigmoidWithinOneCode) {
  const auto& lut = PbitModel::lut();
  ASSERT_EQ(lut.size(), 8193u);
  EXPECT_EQ(lut[4096], 1u << 23);  // sigmoid(0) = 1/2 exactly
  EXPECT_EQ(lut[0], 2u);           // 2^24 sigmoid(-16) = 1.87
  EXPECT_EQ(lut[8192], 16777214u);
  for (const std::size_t k : {0u, 1000u, 3840u, 4095u, 4097u, 4352u, 5000u, 8000u, 8192u}) {
    const long double x = (static_cast<long double>(k) - 4096.0L) / 256.0L;
    const long double exact = 16777216.0L / (1.0L + std::exp(-x));
    EXPECT_LE(std::fabs(static_cast<long double>(lut[k]) - exact), 1.0L) << k;
  }
  for (std::size_t k = 1; k < lut.size(); ++k)
    ASSERT_LE(lut[k - 1], lut[k]) << k;
}

TEST(PbitLut, FieldsBeyondSixteenSaturate) {
  // 2 beta h = 16 at beta 1 (code 256), h = 8; larger fields use the same end entry.
  EXPECT_EQ(PbitModel::threshold(256, 8), 16777214u);
  EXPECT_EQ(PbitModel::threshold(256, 100), 16777214u);
  EXPECT_EQ(PbitModel::threshold(65535, -223), 2u);
  EXPECT_EQ(PbitModel::threshold(0, 50), 1u << 23);                       // beta 0: a fair coin
  EXPECT_EQ(PbitModel::threshold(128, 1), PbitModel::lut()[4096 + 256]);  // 2 * 0.5 * 1 = 1
}

TEST(PbitBoard, HelloDescribesTheLattice) {
  PbitClient board(config_of(70, 70, 12));
  const Envelope reply = board.hello();
  ASSERT_TRUE(reply.has_device_info()) << reply.DebugString();
  const auto& info = reply.device_info();
  EXPECT_EQ(info.family(), firmware_protocol::wire::BOARD_FAMILY_PBIT);
  EXPECT_EQ(info.serial(), "SIM-PBIT-70x70-1");
  EXPECT_EQ(info.protocol_version(), 6u);
  EXPECT_EQ(info.model(), "pbit-gibbs");
  EXPECT_EQ(info.cell_count(), 4900u);
  const auto& p = info.pbit();
  EXPECT_EQ(p.rows(), 70u);
  EXPECT_EQ(p.cols(), 70u);
  EXPECT_EQ(p.degree(), 12u);
  EXPECT_EQ(p.edge_count(), edge_count(70, 70, 12));
  EXPECT_EQ(p.weight().bits(), 4u);
  EXPECT_EQ(p.weight().min_code(), -6);
  EXPECT_EQ(p.weight().max_code(), 6);
  EXPECT_EQ(p.bias().min_code(), -127);
  EXPECT_EQ(p.bias().max_code(), 127);
  EXPECT_EQ(p.beta().lsb(), 1.0 / 256.0);
  EXPECT_EQ(p.beta().max_code(), 65535);
  EXPECT_EQ(p.lut_entries(), 8193u);
  EXPECT_EQ(p.rng_bits(), 24u);
  EXPECT_EQ(p.max_chains(), 64u);
}

// Golden output: seed 1, 8x8 degree 12, random_model(), reset_state, 2 chains x 64 sweeps,
// every sweep recorded. Computed once with this implementation (print
// fnv1a64(results.samples_bits()) and paste); it changes only if the board's numeric spec
// (LUT, RNG counter layout, sweep order, record layout) changes, which must be deliberate.
TEST(PbitBoard, RecordedSamplesMatchTheGoldenHash) {
  PbitClient board(config_of(8, 8, 12));
  std::vector<int> weights, biases;
  random_model(edge_count(8, 8, 12), 64, weights, biases);
  ASSERT_TRUE(board.program_lattice(weights, biases).has_ack());
  SamplingOptions o;
  o.sweeps = 64;
  o.chains = 2;
  o.record = true;
  o.reset = true;
  const auto results = board.sample(o);
  EXPECT_EQ(results.sample_count(), 128u);
  ASSERT_EQ(results.samples_bits().size(), 128u * 8u);
  EXPECT_EQ(fnv1a64(results.samples_bits()), 0xc93b75d4133a52f9ull)
      << std::hex << fnv1a64(results.samples_bits());
}

TEST(PbitModelThreads, ResultsAreBitIdenticalOnOneAndTwoThreads) {
  const PbitConfig config = config_of(12, 10, 16, 7);
  std::vector<int> w, b;
  random_model(edge_count(12, 10, 16), 120, w, b);
  const std::string weights = i8(w);
  const std::string biases = i8(b);
  SamplingRequest request;
  request.sweeps = 50;
  request.chains = 5;  // an odd split: 2 chains on one thread, 3 on the other
  request.burn_in_sweeps = 7;
  request.sample_every = 3;
  request.accumulate_moments = true;
  request.record_samples = true;
  request.reset_state = true;
  std::vector<SamplingRecord> records;
  for (const unsigned threads : {1u, 2u}) {
    PbitModel model(config);
    model.set_threads(threads);
    model.program_lattice(120, span_of(weights), span_of(biases));
    const SamplingTicket ticket = model.begin_run(request);
    model.execute(ticket);
    records.push_back(model.results(ticket.run_id));
  }
  EXPECT_EQ(records[0].spin_sums, records[1].spin_sums);
  EXPECT_EQ(records[0].edge_sums, records[1].edge_sums);
  EXPECT_EQ(records[0].samples_bits, records[1].samples_bits);
  EXPECT_EQ(records[0].ticket.sample_count, 5u * 16u);
}

TEST(PbitBoard, ClampedNodesNeverChange) {
  PbitClient board(config_of(6, 6, 8, 3));
  std::vector<int> w, b;
  random_model(edge_count(6, 6, 8), 36, w, b);
  ASSERT_TRUE(board.program_lattice(w, b).has_ack());
  const std::vector<std::uint32_t> nodes = {0, 7, 20, 35};
  const std::vector<int> values = {-1, 1, -1, 1};
  ASSERT_TRUE(board.set_clamps(nodes, values).has_ack());
  ASSERT_TRUE(board.set_beta_schedule({16}).has_ack());  // beta 1/16: free nodes keep moving
  SamplingOptions o;
  o.sweeps = 200;
  o.chains = 3;
  o.record = true;
  o.reset = true;  // the randomization must not touch clamped nodes either
  const auto results = board.sample(o);
  ASSERT_EQ(results.sample_count(), 600u);
  for (std::uint64_t k = 0; k < results.sample_count(); ++k) {
    for (std::size_t c = 0; c < nodes.size(); ++c)
      ASSERT_EQ(recorded_spin(results.samples_bits(), 36, k, nodes[c]), values[c]) << k;
  }
  EXPECT_EQ(results.spin_sums(7), 600);
  EXPECT_EQ(results.spin_sums(0), -600);
  // Free nodes do move.
  EXPECT_NE(std::abs(results.spin_sums(14)), 600);
  // Clearing the clamps frees them again.
  ASSERT_TRUE(board.set_clamps({}, {}).has_ack());
  EXPECT_NE(std::abs(board.sample(o).spin_sums(0)), 600);
}

// Biases +5 everywhere and no couplings: at beta 10 (code 2560) 2 beta h = 100 saturates, so
// P(s = -1) = 1 - LUT[8192] / 2^24 = 1.2e-7 per update: the 64 nodes x 10 samples below are all
// +1 unless a 8e-5 event happens (and the seed is fixed). At beta 0 every update is a fair coin,
// independent of everything else, so each node's sum over the N later samples has standard
// deviation sqrt(N); 5 sqrt(N) bounds it.
TEST(PbitBoard, BetaScheduleIsAppliedPerSweep) {
  PbitClient board(config_of(8, 8, 12));
  ASSERT_TRUE(
      board.program_lattice(std::vector<int>(edge_count(8, 8, 12), 0), std::vector<int>(64, 5))
          .has_ack());
  std::vector<std::uint32_t> schedule(10, 2560);
  schedule.push_back(0);
  ASSERT_TRUE(board.set_beta_schedule(schedule).has_ack());
  SamplingOptions o;
  o.sweeps = 1010;
  o.reset = true;
  o.record = true;
  const auto results = board.sample(o);
  ASSERT_EQ(results.sample_count(), 1010u);
  for (std::uint64_t k = 0; k < 10; ++k) {
    for (std::uint32_t i = 0; i < 64; ++i)
      ASSERT_EQ(recorded_spin(results.samples_bits(), 64, k, i), 1) << k << " " << i;
  }
  const double bound = 5.0 * std::sqrt(1000.0);
  for (std::uint32_t i = 0; i < 64; ++i) {
    std::int64_t later = 0;
    for (std::uint64_t k = 10; k < 1010; ++k)
      later += recorded_spin(results.samples_bits(), 64, k, i);
    EXPECT_LE(std::abs(static_cast<double>(later)), bound) << i;
  }
}

TEST(PbitBoard, BetaZeroGivesMeansNearZeroEvenWithStrongCouplings) {
  PbitClient board(config_of(8, 8, 12));
  ASSERT_TRUE(
      board.program_lattice(std::vector<int>(edge_count(8, 8, 12), 6), std::vector<int>(64, 100))
          .has_ack());
  ASSERT_TRUE(board.set_beta_schedule({0}).has_ack());
  SamplingOptions o;
  o.sweeps = 2000;
  o.chains = 4;
  const auto results = board.sample(o);
  const double n = static_cast<double>(results.sample_count());
  ASSERT_EQ(n, 8000.0);
  for (std::uint32_t i = 0; i < 64; ++i)  // independent fair coins: sd sqrt(N)
    EXPECT_LE(std::abs(static_cast<double>(results.spin_sums(i))), 5.0 * std::sqrt(n)) << i;
}

TEST(PbitBoard, RunsContinueFromTheLastStateAndCountSamples) {
  PbitClient board(config_of(4, 4, 8));
  SamplingOptions o;
  o.sweeps = 10;
  o.chains = 3;
  o.burn_in = 5;
  o.sample_every = 4;
  const Envelope started = board.start_sampling(o);
  ASSERT_TRUE(started.has_run_started());
  EXPECT_EQ(started.run_started().sample_count(), 3u * 2u);
  EXPECT_EQ(started.run_started().first_tick(), 5u + 4u - 1u);
  const Envelope second = board.start_sampling(o);
  EXPECT_EQ(second.run_started().first_tick(), 15u + 8u);  // sweeps 0..14 were used
  const auto results = board.read_results(second.run_started().run_id());
  ASSERT_TRUE(results.has_sampling_results());
  EXPECT_EQ(results.sampling_results().first_tick(), 23u);
  EXPECT_EQ(results.sampling_results().spin_sums_size(), 16);
  EXPECT_EQ(results.sampling_results().edge_sums_size(), 0);
}

TEST(PbitBoardErrors, WrongSizesAreInvalidArguments) {
  PbitClient board(config_of(4, 4, 8));
  const std::uint32_t edges = edge_count(4, 4, 8);
  Envelope reply = board.program_lattice(std::vector<int>(edges - 1, 0), std::vector<int>(16, 0));
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  EXPECT_NE(reply.error().message().find(std::to_string(edges)), std::string::npos)
      << reply.error().message();
  EXPECT_TRUE(IsError(board.program_lattice(std::vector<int>(edges, 0), std::vector<int>(15, 0)),
                      ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  EXPECT_TRUE(IsError(board.set_clamps({1, 2}, {1}), ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  EXPECT_TRUE(IsError(board.set_clamps({1, 1}, {1, 1}), ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  EXPECT_TRUE(IsError(board.set_beta_schedule({}), ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  SamplingOptions o;
  o.chains = 65;
  EXPECT_TRUE(IsError(board.start_sampling(o), ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  o.chains = 1;
  o.sample_every = 0;
  EXPECT_TRUE(IsError(board.start_sampling(o), ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  o.sample_every = 1;
  o.sweeps = 0;
  EXPECT_TRUE(IsError(board.start_sampling(o), ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
}

TEST(PbitBoardErrors, CodesOutsideTheirRangesAreOutOfRangeAndNamed) {
  PbitClient board(config_of(4, 4, 8));
  const std::uint32_t edges = edge_count(4, 4, 8);
  std::vector<int> w(edges, 0);
  w[3] = 7;  // |J| = 7 fits 4 bits but exceeds the cap of 6
  Envelope reply = board.program_lattice(w, std::vector<int>(16, 0));
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_OUT_OF_RANGE));
  EXPECT_NE(reply.error().message().find("edge 3"), std::string::npos) << reply.error().message();
  w[3] = -7;
  EXPECT_TRUE(IsError(board.program_lattice(w, std::vector<int>(16, 0)),
                      ErrorCode::ERROR_CODE_OUT_OF_RANGE));
  w[3] = 6;
  std::vector<int> b(16, 0);
  b[5] = -128;
  reply = board.program_lattice(w, b);
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_OUT_OF_RANGE));
  EXPECT_NE(reply.error().message().find("node 5"), std::string::npos) << reply.error().message();
  EXPECT_TRUE(IsError(board.set_clamps({16}, {1}), ErrorCode::ERROR_CODE_OUT_OF_RANGE));
  EXPECT_TRUE(IsError(board.set_clamps({3}, {0}), ErrorCode::ERROR_CODE_OUT_OF_RANGE));
  EXPECT_TRUE(IsError(board.set_beta_schedule({256, 65536}), ErrorCode::ERROR_CODE_OUT_OF_RANGE));
  // -6 and 6, -127 and 127, 65535 are fine.
  w[0] = -6;
  b[5] = -127;
  b[6] = 127;
  EXPECT_TRUE(board.program_lattice(w, b).has_ack());
  EXPECT_TRUE(board.set_beta_schedule({65535}).has_ack());
}

TEST(PbitBoardErrors, RecordingBeyondTheFrameIsResourceExhausted) {
  PbitClient board(config_of(70, 70, 12));
  SamplingOptions o;
  o.sweeps = 2000;  // 2000 samples x 613 bytes > 1 MiB
  o.record = true;
  EXPECT_TRUE(IsError(board.start_sampling(o), ErrorCode::ERROR_CODE_RESOURCE_EXHAUSTED));
}

TEST(PbitBoardErrors, UnknownRunsAndForeignRequestsAreRefused) {
  PbitClient pbit(config_of(4, 4, 8));
  EXPECT_TRUE(IsError(pbit.read_results(5), ErrorCode::ERROR_CODE_UNKNOWN_RUN));
  const auto results = pbit.sample(SamplingOptions{});
  EXPECT_TRUE(IsError(pbit.read_results(results.run_id()), ErrorCode::ERROR_CODE_UNKNOWN_RUN));
  // Resonator requests to a p-bit board, and the other way round.
  Envelope reply = pbit.set_noise(10);
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_UNEXPECTED_MESSAGE));
  EXPECT_NE(reply.error().message().find("p-bit board"), std::string::npos)
      << reply.error().message();
  EXPECT_TRUE(
      IsError(pbit.start_run(100, false, false, false), ErrorCode::ERROR_CODE_UNEXPECTED_MESSAGE));
  BoardClient resonator;
  Envelope e = resonator.request();
  e.mutable_start_sampling()->set_sweeps(10);
  reply = resonator.exchange(e);
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_UNEXPECTED_MESSAGE));
  EXPECT_NE(reply.error().message().find("resonator board"), std::string::npos)
      << reply.error().message();
  // A reply type sent as a request.
  e = pbit.request();
  e.mutable_sampling_results();
  EXPECT_TRUE(IsError(pbit.exchange(e), ErrorCode::ERROR_CODE_UNEXPECTED_MESSAGE));
}

TEST(PbitBoardErrors, UnreadRunsOverflowAfterEight) {
  PbitClient board(config_of(2, 2, 8));
  for (int k = 0; k < 9; ++k)
    ASSERT_TRUE(board.start_sampling(SamplingOptions{}).has_run_started());
  EXPECT_TRUE(IsError(board.read_results(1), ErrorCode::ERROR_CODE_UNKNOWN_RUN));
  const Envelope second = board.read_results(2);
  ASSERT_TRUE(second.has_sampling_results());
  EXPECT_EQ(second.sampling_results().overflow_count(), 1u);
}

TEST(PbitBoardErrors, InvalidConfigIsRejectedAtPowerUp) {
  EXPECT_THROW(make_pbit_firmware(config_of(0, 4, 8)), std::invalid_argument);
  EXPECT_THROW(make_pbit_firmware(config_of(4, 257, 8)), std::invalid_argument);
  EXPECT_THROW(make_pbit_firmware(config_of(4, 4, 10)), std::invalid_argument);
}

}  // namespace
}  // namespace kelvin::sim_backend::testing
