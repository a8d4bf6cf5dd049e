// Shared fixture of the board server tests (board_server_*_test.cpp): a server of two emulated
// boards, a noisy job whose every raw sample is compared with the same job run in process, and
// a poll for a condition; with the names those tests use unqualified, declared once in
// kelvin::tools::kelvind (the common ones, the shared error helpers of tests/support and these).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/common/deadline.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/testing/errors.hpp"
#include "kelvin/tools/kelvind/board_server.hpp"

namespace kelvin::tools::kelvind::testing {

inline constexpr const char* kBoard0 = "sim:resonator?cells=4&seed=7";
inline constexpr const char* kBoard1 = "sim:resonator?cells=4&seed=8";

inline ServerOptions two_boards() {
  ServerOptions options;
  options.listen = "tcp:127.0.0.1:0";
  options.devices = {kBoard0, kBoard1};
  return options;
}

// A noisy run with every raw sample recorded: any lost, reordered or altered byte shows.
struct JobOutput {
  std::vector<std::int64_t> sums;
  std::vector<std::int16_t> samples;
  std::uint64_t first_tick = 0;
};

inline JobOutput run_job(driver::ResonatorBoard& board) {
  using namespace std::chrono_literals;
  const auto deadline = common::Deadline::after(10s);
  driver::SymmetricCodes couplings(4);
  for (std::uint32_t i = 0; i < 4; ++i)
    couplings.set(i, i, 16384);
  couplings.set(0, 1, -3000);
  couplings.set(2, 3, 2500);
  board.program_couplings(couplings, deadline);
  const std::vector<std::int16_t> biases = {4096, -4096, 1000, 2048};
  board.program_biases(biases, deadline);
  board.set_noise(4096, deadline);
  driver::RunRequest request;
  request.samples = 400;
  request.reset_state = true;
  request.record_samples = true;
  const auto result = board.run(request, deadline);
  return {result.sums, result.samples, result.first_tick};
}

inline void expect_same(const JobOutput& a, const JobOutput& b) {
  EXPECT_EQ(a.sums, b.sums);
  EXPECT_EQ(a.samples, b.samples);
  EXPECT_EQ(a.first_tick, b.first_tick);
  EXPECT_EQ(a.samples.size(), 400u * 4u);
}

// The job run `repeats` times on a fresh in-process board; returns the last run (the board's
// noise stream goes on between runs, so the k-th run on a board has its own reference).
inline JobOutput reference_job(const char* uri, int repeats = 1) {
  driver::ResonatorBoard local(driver::backends::open(uri));
  JobOutput out;
  for (int i = 0; i < repeats; ++i)
    out = run_job(local);
  return out;
}

// Polls `condition` every 10 ms until it holds or `budget` passes.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds budget = std::chrono::seconds(8)) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace kelvin::tools::kelvind::testing

namespace kelvin::tools::kelvind {

using common::Deadline;
using common::Error;
using common::ErrorKind;
using driver::ResonatorBoard;
using kelvin::testing::message_of;
using namespace std::chrono_literals;
using testing::eventually;
using testing::expect_same;
using testing::kBoard0;
using testing::kBoard1;
using testing::reference_job;
using testing::run_job;
using testing::two_boards;

}  // namespace kelvin::tools::kelvind
