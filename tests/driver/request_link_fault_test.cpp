// Control requests under every emulated link fault: a job of register writes and runs on a board
// behind a faulty link gives the answers of the same board on a clean link, bit for bit, and
// the link statistics show what was recovered (resends, damaged and stale replies). The board
// answers a repeated request with the reply it kept (docs/protocol.md, "Repeated requests"), so
// a lost RunStarted or RunResults costs time, never a second run or a released result.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "driver_test_names.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"

namespace kelvin::driver {
namespace {

constexpr const char* kBoard = "sim:resonator?cells=4&seed=3";

struct RunOutput {
  std::uint64_t run_id = 0;
  std::uint64_t first_tick = 0;
  std::vector<std::int64_t> sums;
  std::vector<std::int64_t> product_sums;
  std::vector<std::int16_t> samples;
  bool operator==(const RunOutput&) const = default;
};

// Registers, then four runs (cold and warm starts, with and without records): about a dozen
// requests, each of whose replies the link may lose, damage, repeat or hold back.
std::vector<RunOutput> job(ResonatorBoard& board, Deadline deadline) {
  SymmetricCodes a(4);
  for (std::uint32_t i = 0; i < 4; ++i) {
    a.set(i, i, 9830);
    if (i + 1 < 4)
      a.set(i, i + 1, -1638);
  }
  board.program_couplings(a, deadline);
  board.program_biases(std::vector<std::int16_t>{-820, -410, 0, 410}, deadline);
  board.set_noise(2000, deadline);
  std::vector<RunOutput> out;
  for (int k = 0; k < 4; ++k) {
    RunRequest request;
    request.samples = 500 + 250 * static_cast<std::uint64_t>(k);
    request.reset_state = k == 0;
    request.record_samples = k % 2 == 0;
    request.accumulate_products = true;
    const RunResult r = board.run(request, deadline);
    out.push_back({r.run_id, r.first_tick, r.sums, r.product_sums, r.samples});
  }
  return out;
}

const std::vector<RunOutput>& clean_answers() {
  static const std::vector<RunOutput> answers = [] {
    ResonatorBoard board(backends::open(kBoard));
    return job(board, Deadline::after(30s));
  }();
  return answers;
}

class RequestsUnderFault : public ::testing::TestWithParam<const char*> {};

TEST_P(RequestsUnderFault, GiveTheCleanLinksAnswersAndCountWhatWasRecovered) {
  const std::string fault = GetParam();
  auto device = backends::open(std::string(kBoard) + "&fault=" + fault);
  ResonatorBoard board(std::shared_ptr<Device>(std::move(device)));
  const auto begin = Clock::now();
  EXPECT_EQ(job(board, Deadline::after(60s)), clean_answers()) << fault;
  const LinkStats s = board.device().stats();
  std::cout << "[  NOTE    ] " << fault << ": " << s.requests << " requests, " << s.retries
            << " resends (" << s.lost_replies << " lost, " << s.bad_frames << " damaged), "
            << s.stale_replies << " stale replies, "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begin).count()
            << " ms\n";
  // The faults are drawn from the board's seeded generator, so these rates strike every time.
  if (fault.starts_with("drop") || fault.starts_with("reorder") || fault.starts_with("stall")) {
    EXPECT_GT(s.retries, 0u) << "the fault never struck";
    EXPECT_GT(s.lost_replies, 0u);
  }
  if (fault.starts_with("corrupt")) {
    EXPECT_GT(s.bad_frames, 0u) << "the fault never struck";
    EXPECT_GT(s.retries, 0u);
  }
  if (fault.starts_with("duplicate") || fault.starts_with("reorder")) {
    EXPECT_GT(s.stale_replies, 0u) << "the fault never struck";
  }
  if (fault.starts_with("delay") || fault.starts_with("overflow") ||
      fault.starts_with("duplicate")) {
    EXPECT_EQ(s.bad_frames, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryFault, RequestsUnderFault,
                         ::testing::Values("drop:0.25", "corrupt:0.25", "duplicate:0.25",
                                           "reorder:0.25", "delay:3ms", "stall:300ms@0s",
                                           "overflow:0.5",
                                           "drop:0.1,corrupt:0.1,duplicate:0.1,reorder:0.1,"
                                           "delay:1ms,overflow:0.1"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           std::string name = param_info.param;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch)))
                               ch = '_';
                           }
                           return name;
                         });

// The p-bit board keeps its replies the same way: a lattice, a schedule and two sampling runs
// behind a link that loses, damages and repeats replies give the clean link's sums.
TEST(RequestsUnderFault, APbitJobGivesTheCleanLinksSums) {
  const auto job = [](const std::string& fault) {
    PbitBoard board(backends::open("sim:pbit?rows=4&cols=4&degree=8&seed=5" + fault));
    const auto deadline = Deadline::after(60s);
    std::vector<std::int8_t> weights(board.lattice().edges().size());
    for (std::size_t e = 0; e < weights.size(); ++e)
      weights[e] = static_cast<std::int8_t>(static_cast<int>(e % 7) - 3);
    std::vector<std::int8_t> biases(board.nodes(), 1);
    board.program_lattice(weights, biases, deadline);
    const std::vector<std::uint32_t> schedule = {256};
    board.set_beta_schedule(schedule, deadline);
    std::vector<std::vector<std::int64_t>> sums;
    for (int k = 0; k < 3; ++k) {
      SamplingRequest request;
      request.sweeps = 400;
      request.chains = 2;
      request.accumulate_moments = true;
      request.reset_state = k == 0;
      const SamplingResult r = board.sample(request, deadline);
      sums.push_back(r.spin_sums);
      sums.push_back(r.edge_sums);
    }
    return std::make_pair(sums, board.device().stats());
  };
  const auto clean = job("");
  const auto faulty = job("&fault=drop:0.25,corrupt:0.25,duplicate:0.25,overflow:0.5");
  EXPECT_EQ(faulty.first, clean.first);
  EXPECT_GT(faulty.second.retries, 0u) << "the fault never struck";
  EXPECT_GT(faulty.second.bad_frames + faulty.second.stale_replies, 0u);
}

// A link that vanishes is not a lost reply: the request fails with kDisconnected at once
// instead of being asked again until the deadline.
TEST(RequestsUnderFault, ADisconnectFailsTheRequestAtOnceNotAtTheDeadline) {
  ResonatorBoard board(backends::open(std::string(kBoard) + "&fault=disconnect:300ms"));
  const auto deadline = Deadline::after(30s);
  ErrorKind kind = ErrorKind::kInvalidArgument;
  try {
    for (;;)
      (void)job(board, deadline);
  } catch (const Error& e) {
    kind = e.kind();
  }
  EXPECT_EQ(kind, ErrorKind::kDisconnected);
  EXPECT_LT(Clock::now(), deadline.when() - 25s);
}

}  // namespace
}  // namespace kelvin::driver
