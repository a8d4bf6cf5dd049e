// The session's link: a request that timed out, a session closed while a caller waits, a link
// that vanishes, and (when a reference board is given) runs that match it bit for bit.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "case_lists.hpp"
#include "case_support.hpp"

namespace kelvin::tools::conformance::detail {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kShortDeadline = 20ms;
constexpr double kLongRunSeconds = 0.5;  // of device time: long against kShortDeadline

Envelope long_run(const wire::DeviceInfo& info) {
  const auto samples =
      static_cast<std::uint64_t>(kLongRunSeconds * info.tick_rate_hz() / info.ticks_per_sample());
  Envelope e;
  e.mutable_start_run()->set_duration_ticks(
      std::min<std::uint64_t>(samples, info.max_samples_per_run()) * info.ticks_per_sample());
  return e;
}

Envelope read_results(std::uint64_t run_id) {
  Envelope e;
  e.mutable_read_results()->set_run_id(run_id);
  return e;
}

std::uint64_t start_long_run(Session& s) {
  const Exchange x = exchange(*s.device, long_run(s.info));
  return expect_reply(x, Envelope::kRunStarted, "RunStarted").run_started().run_id();
}

void after_a_timeout(const CaseContext& context) {
  Session s = open_session(context);
  require_resonator(s);
  program(s);
  const std::uint64_t run_id = start_long_run(s);
  const Exchange timed_out = exchange(*s.device, read_results(run_id), kShortDeadline);
  if (timed_out.reply) {
    throw CaseSkipped(
        fmt::format("the board finished a {} s run within {} ms: no timeout to "
                    "recover from",
                    kLongRunSeconds, kShortDeadline.count()));
  }
  if (timed_out.error->kind() != common::ErrorKind::kTimeout)
    fail("a timeout", timed_out);
  const std::uint64_t stale_before = s.device->stats().stale_replies;
  // The late reply comes first and must carry the old request's id; the ping is answered next.
  const Exchange x = exchange(*s.device, ping("after a timeout"), 30s);
  expect_reply(x, Envelope::kPong, "Pong after the late RunResults");
  check(s.device->stats().stale_replies > stale_before,
        "the late reply to the timed-out ReadResults, under its own request id, before the Pong",
        x);
  const Exchange read = exchange(*s.device, read_results(run_id), 10s);
  const bool ok =
      read.reply &&
      (read.reply->has_run_results() ||
       (read.reply->has_error() && read.reply->error().code() == wire::ERROR_CODE_UNKNOWN_RUN));
  check(ok, "RunResults, or UNKNOWN_RUN since the late reply released them", read);
}

void close_wakes_a_caller(const CaseContext& context) {
  Session s = open_session(context);
  require_resonator(s);
  program(s);
  const std::uint64_t run_id = start_long_run(s);
  std::thread closer([&] {
    std::this_thread::sleep_for(50ms);
    s.device->close();
  });
  const auto begin = Clock::now();
  const Exchange x = exchange(*s.device, read_results(run_id), 30s);
  const auto waited = Clock::now() - begin;
  closer.join();
  if (x.reply && waited < 50ms)
    throw CaseSkipped("the board answered before the session was closed");
  if (!x.error || x.error->kind() != common::ErrorKind::kDisconnected)
    fail("a disconnected error once the session is closed", x);
  check(waited < 5s, "the blocked caller woken within 5 s of the close", x);
  const Exchange after = exchange(*s.device, ping({}), 1s);
  if (!after.error || after.error->kind() != common::ErrorKind::kDisconnected)
    fail("every request after the close to fail as disconnected", after);
}

void vanished_link(const CaseContext& context) {
  const std::string& uri = context.target().disconnecting_uri;
  if (uri.empty()) {
    throw CaseSkipped(
        "needs a link that can be cut (CTest runs it on the emulated boards with "
        "fault=disconnect:300ms)");
  }
  Session s = open_session(context, uri);
  const auto begin = Clock::now();
  for (;;) {
    const Exchange x = exchange(*s.device, ping(std::string(100, 'p')), 30s);
    if (x.reply)
      continue;
    if (x.error->kind() != common::ErrorKind::kDisconnected)
      fail("a disconnected error when the link vanishes", x);
    check(Clock::now() - begin < 5s, "the failure within 5 s of the link vanishing", x);
    return;
  }
}

wire::RunResults reference_run(Session& s) {
  program(s);
  Envelope run;
  run.mutable_start_run()->set_duration_ticks(2000 * std::uint64_t{s.info.ticks_per_sample()});
  run.mutable_start_run()->set_reset_state(true);
  run.mutable_start_run()->set_accumulate_products(true);
  run.mutable_start_run()->set_record_samples(true);
  const Exchange started = exchange(*s.device, run);
  const auto id = expect_reply(started, Envelope::kRunStarted, "RunStarted").run_started().run_id();
  const Exchange read = exchange(*s.device, read_results(id), 10s);
  return expect_reply(read, Envelope::kRunResults, "RunResults").run_results();
}

void matches_the_reference(const CaseContext& context) {
  const std::string& reference_uri = context.target().reference_uri;
  if (reference_uri.empty())
    throw CaseSkipped("needs a reference board that must give the same codes");
  Session s = open_session(context);
  require_resonator(s);
  Session reference = open_session(context, reference_uri);
  const wire::RunResults got = reference_run(s);
  const wire::RunResults want = reference_run(reference);
  const auto equal = [](const auto& a, const auto& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  };
  const bool same = equal(got.sums(), want.sums()) &&
                    equal(got.product_sums(), want.product_sums()) &&
                    got.samples_le16() == want.samples_le16();
  if (!same) {
    Envelope a;
    *a.mutable_run_results() = got;
    Envelope b;
    *b.mutable_run_results() = want;
    fail(fmt::format("the reference board's results\nexpected {}\nreceived {}", describe(b),
                     describe(a)));
  }
}

}  // namespace

std::vector<Case> link_cases() {
  return {
      {"link.usable_after_a_timeout",
       "a request that timed out gets its late reply under its own id; the next request works",
       after_a_timeout},
      {"link.close_wakes_a_blocked_caller",
       "closing a session wakes a caller waiting for a reply, and later requests fail at once",
       close_wakes_a_caller},
      {"link.disconnect_fails_with_disconnected",
       "a vanished link fails the waiting request as disconnected, not at its deadline",
       vanished_link},
      {"runs.match_the_reference_board",
       "the same job gives the reference board's ADC codes bit for bit", matches_the_reference},
  };
}

}  // namespace kelvin::tools::conformance::detail
