// Control requests on a faulty link, on every transport: the board's replies pass through an
// emulated faulty link (conformance_targets.hpp says where it sits for each target), and a job
// of register writes and runs must give the clean in-process board's answers bit for bit, with
// the link statistics showing that the faults struck and were recovered (resends, damaged and
// stale replies). (A vanished link is a case of the conformance suite: conformance_test.cpp.)
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "conformance_targets.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"

namespace kelvin::conformance {
namespace {

using namespace std::chrono_literals;
using common::Deadline;
using common::Error;
using common::ErrorKind;
using Clock = std::chrono::steady_clock;

struct RunOutput {
  std::uint64_t run_id = 0;
  std::uint64_t first_tick = 0;
  std::vector<std::int64_t> sums;
  std::vector<std::int64_t> product_sums;
  std::vector<std::int16_t> samples;
  bool operator==(const RunOutput&) const = default;
};

// Registers, then four runs: about a dozen requests whose replies the link may lose, damage,
// repeat or hold back.
std::vector<RunOutput> job(driver::ResonatorBoard& board, Deadline deadline) {
  driver::SymmetricCodes a(4);
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
    driver::RunRequest request;
    request.samples = 500 + 250 * static_cast<std::uint64_t>(k);
    request.reset_state = k == 0;
    request.record_samples = k % 2 == 0;
    request.accumulate_products = true;
    const driver::RunResult r = board.run(request, deadline);
    out.push_back({r.run_id, r.first_tick, r.sums, r.product_sums, r.samples});
  }
  return out;
}

const std::vector<RunOutput>& clean_answers() {
  static const std::vector<RunOutput> answers = [] {
    driver::ResonatorBoard board(driver::backends::open(kReferenceUri));
    return job(board, Deadline::after(30s));
  }();
  return answers;
}

std::string test_name(std::string text) {
  for (char& ch : text) {
    if (!std::isalnum(static_cast<unsigned char>(ch)))
      ch = '_';
  }
  return text;
}

class ConformanceUnderFault : public ::testing::TestWithParam<std::tuple<TargetKind, const char*>> {
 protected:
  void SetUp() override {
    fault_ = std::get<1>(GetParam());
    target_ = make_target(std::get<0>(GetParam()), fault_);
    if (!target_)
      GTEST_SKIP() << "target not available in this build";
  }
  std::string fault_;
  std::unique_ptr<Target> target_;
};

TEST_P(ConformanceUnderFault, ASequenceOfRequestsGivesTheCleanLinksAnswers) {
  driver::OpenOptions open;
  open.open_timeout = 20s;  // a stall at power-up holds the hello's reply
  driver::ResonatorBoard board(driver::backends::open(target_->uri(), open));
  const auto begin = Clock::now();
  EXPECT_EQ(job(board, Deadline::after(60s)), clean_answers());
  const driver::LinkStats s = board.device().stats();
  std::cout << "[  NOTE    ] " << to_string(std::get<0>(GetParam())) << " " << fault_ << ": "
            << s.requests << " requests, " << s.retries << " resends (" << s.lost_replies
            << " lost, " << s.bad_frames << " damaged), " << s.stale_replies << " stale, "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begin).count()
            << " ms\n";
  // The faults come from the board's seeded generator: at these rates they strike every time.
  // A stall is timed from power-up instead, and a slow open (USB enumeration on a loaded
  // machine) can outlast it before the first request, so it must only leave the answers intact.
  if (fault_.starts_with("drop") || fault_.starts_with("reorder")) {
    EXPECT_GT(s.retries, 0u) << "the fault never struck";
  }
  if (fault_.starts_with("corrupt")) {
    EXPECT_GT(s.bad_frames, 0u) << "the fault never struck";
    EXPECT_GT(s.retries, 0u);
  }
  if (fault_.starts_with("duplicate") || fault_.starts_with("reorder")) {
    EXPECT_GT(s.stale_replies, 0u) << "the fault never struck";
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryTransportAndFault, ConformanceUnderFault,
    ::testing::Combine(::testing::ValuesIn(all_targets()),
                       ::testing::Values("drop:0.25", "corrupt:0.25", "duplicate:0.25",
                                         "reorder:0.25", "delay:3ms", "stall:300ms@0s",
                                         "overflow:0.5",
                                         "drop:0.1,corrupt:0.1,duplicate:0.1,reorder:0.1,"
                                         "delay:1ms,overflow:0.1")),
    [](const ::testing::TestParamInfo<ConformanceUnderFault::ParamType>& param_info) {
      return std::string(to_string(std::get<0>(param_info.param))) + "_" +
             test_name(std::get<1>(param_info.param));
    });

}  // namespace
}  // namespace kelvin::conformance
