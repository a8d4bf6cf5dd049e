#include "check_support.hpp"

#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/ping.hpp"

namespace kelvin::runtime::selftest::detail {

void Recorder::add(CheckResult result) {
  summary_.checks.push_back(std::move(result));
}

void Recorder::judge(std::string check, std::string subject, double measured, double expected,
                     double tolerance, std::string unit, double time_s,
                     std::optional<std::uint32_t> index) {
  CheckResult r;
  r.check = std::move(check);
  r.subject = std::move(subject);
  r.measured = measured;
  r.expected = expected;
  r.tolerance = tolerance;
  r.unit = std::move(unit);
  r.time_s = time_s;
  const double off = measured - expected;
  const bool ok = std::isfinite(measured) && std::abs(off) <= tolerance;
  r.outcome = ok ? Outcome::kPass : Outcome::kFail;
  const double relative = expected != 0.0 ? 100.0 * off / std::abs(expected) : 0.0;
  const std::string percent =
      expected != 0.0 ? fmt::format(" ({:+.3g}% of expected)", relative) : std::string{};
  if (ok) {
    r.message = fmt::format("within tolerance: off by {:+.4g} {}{}", off, r.unit, percent);
  } else {
    r.message =
        fmt::format("off by {:+.4g} {}{}, {:.3g}x the tolerance of {:.4g} {}", off, r.unit, percent,
                    tolerance > 0 ? std::abs(off) / tolerance : INFINITY, tolerance, r.unit);
    if (index)
      broken_.insert(*index);
  }
  add(std::move(r));
}

void Recorder::fail(std::string check, std::string subject, std::string message, double time_s) {
  add(CheckResult{std::move(check),
                  std::move(subject),
                  Outcome::kFail,
                  {},
                  {},
                  {},
                  {},
                  std::move(message),
                  time_s});
}

void Recorder::pass(std::string check, std::string subject, std::string message, double time_s) {
  add(CheckResult{std::move(check),
                  std::move(subject),
                  Outcome::kPass,
                  {},
                  {},
                  {},
                  {},
                  std::move(message),
                  time_s});
}

void Recorder::skip(std::string check, std::string subject, std::string message) {
  add(CheckResult{std::move(check),
                  std::move(subject),
                  Outcome::kSkip,
                  {},
                  {},
                  {},
                  {},
                  std::move(message),
                  0.0});
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double two_sided_tail(double sigmas) {
  return std::erfc(sigmas / std::sqrt(2.0));
}

void check_link(driver::Device& device, Recorder& recorder, const Options& options) {
  constexpr std::uint32_t kPingSince = 5;
  constexpr std::size_t kPayload = 1024;
  if (device.description().protocol_version < kPingSince) {
    recorder.skip("link", "board",
                  fmt::format("protocol v{} has no Ping (since v{})",
                              device.description().protocol_version, kPingSince));
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  try {
    const driver::PingReply reply =
        driver::ping(device, kPayload, common::Deadline::after(options.timeout));
    recorder.pass("link", "board",
                  fmt::format("{} bytes echoed unchanged in {:.0f} us", kPayload,
                              std::chrono::duration<double, std::micro>(reply.round_trip).count()),
                  seconds_since(start));
  } catch (const common::Error& e) {
    recorder.fail("link", "board", fmt::format("ping failed: {}", e.what()), seconds_since(start));
  }
}

std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> pair_rounds(
    std::uint32_t n, std::uint32_t max_rounds) {
  std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> rounds;
  if (n < 2)
    return rounds;
  const std::uint32_t m = n % 2 == 0 ? n : n + 1;  // index n, if any, sits a round out
  std::vector<std::uint32_t> ring(m - 1);
  std::iota(ring.begin(), ring.end(), 1u);
  for (std::uint32_t r = 0; r < m - 1 && r < max_rounds; ++r) {
    // Position 0 holds cell 0; positions 1..m-1 the ring rotated by r.
    const auto at = [&](std::uint32_t pos) {
      return pos == 0 ? 0u : ring[(pos - 1 + r) % (m - 1)];
    };
    std::vector<std::pair<std::uint32_t, std::uint32_t>> round;
    for (std::uint32_t k = 0; k < m / 2; ++k) {
      const std::uint32_t a = at(k);
      const std::uint32_t b = at(m - 1 - k);
      if (a < n && b < n)
        round.emplace_back(std::min(a, b), std::max(a, b));
    }
    rounds.push_back(std::move(round));
  }
  return rounds;
}

void check_counters(const std::vector<RunMark>& runs, Recorder& recorder) {
  std::uint64_t gaps = 0;
  std::string first_gap;
  for (std::size_t k = 1; k < runs.size(); ++k) {
    if (runs[k].first_tick != runs[k].expected_first_tick) {
      if (gaps++ == 0)
        first_gap = fmt::format("; run {} started at tick {}, the run before implies {}", k + 1,
                                runs[k].first_tick, runs[k].expected_first_tick);
    }
  }
  const std::uint64_t dropped = runs.empty() ? 0 : runs.back().overflow_count;
  if (gaps + dropped == 0) {
    recorder.pass(
        "counters", "board",
        fmt::format("{} runs followed each other on the board's clock, no results dropped",
                    runs.size()));
  } else {
    recorder.fail("counters", "board",
                  fmt::format("{} of {} runs did not follow the run before{}; {} results dropped",
                              gaps, runs.size(), first_gap, dropped));
  }
}

bool guarded(Recorder& recorder, const std::string& check, const std::function<void()>& measure) {
  const auto start = std::chrono::steady_clock::now();
  try {
    measure();
    return true;
  } catch (const common::Error& e) {
    recorder.fail(check, "board", fmt::format("the board refused or failed: {}", e.what()),
                  seconds_since(start));
    return false;
  }
}

}  // namespace kelvin::runtime::selftest::detail
