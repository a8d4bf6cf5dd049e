// kelvin ping [--uri URI] [-n N] [--payload BYTES] [--interval-ms MS] [--timeout-ms MS] [--json]
//
// Round trips that touch no board state (Ping, since protocol v5): the latency of the whole path,
// host to board and back (transport, framing, the board's frame loop). A ping whose reply does not
// come back within --timeout-ms counts as lost; the next ones go on.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/ping.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/cli/options.hpp"

namespace kelvin::tools::cli {

namespace {

struct PingOptions {
  CommonOptions common;
  int count = 10;
  std::size_t payload = 0;
  int interval_ms = 0;
  int timeout_ms = 1000;
};

// The q-quantile of sorted values (nearest rank).
double quantile(const std::vector<double>& sorted, double q) {
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

std::string run_ping(const PingOptions& o) {
  auto device = driver::backends::open(o.common.uri);
  std::vector<double> round_trips_us;
  std::uint64_t lost = 0;
  std::string last_error;
  std::uint64_t first_tick = 0;
  std::uint64_t last_tick = 0;
  for (int k = 0; k < o.count; ++k) {
    if (k > 0 && o.interval_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(o.interval_ms));
    try {
      const driver::PingReply reply = driver::ping(
          *device, o.payload, common::Deadline::after(std::chrono::milliseconds(o.timeout_ms)));
      round_trips_us.push_back(std::chrono::duration<double, std::micro>(reply.round_trip).count());
      if (round_trips_us.size() == 1)
        first_tick = reply.device_tick;
      last_tick = reply.device_tick;
    } catch (const common::Error& e) {
      // A lost or damaged reply costs this ping only; a vanished device ends the run.
      if (e.kind() != common::ErrorKind::kTimeout && e.kind() != common::ErrorKind::kBadFrame)
        throw;
      ++lost;
      last_error = e.what();
    }
  }
  if (round_trips_us.empty()) {
    throw common::Error(
        common::ErrorKind::kTimeout,
        fmt::format("none of {} pings to {} came back ({})", o.count, o.common.uri, last_error));
  }
  std::vector<double> sorted = round_trips_us;
  std::sort(sorted.begin(), sorted.end());
  double sum = 0.0;
  for (double v : sorted)
    sum += v;
  const double mean = sum / static_cast<double>(sorted.size());
  Json result{{"uri", o.common.uri},
              {"serial", device->description().serial},
              {"sent", o.count},
              {"received", sorted.size()},
              {"lost", lost},
              {"payload_bytes", o.payload},
              {"min_us", sorted.front()},
              {"median_us", quantile(sorted, 0.5)},
              {"mean_us", mean},
              {"p90_us", quantile(sorted, 0.9)},
              {"max_us", sorted.back()},
              {"device_ticks", last_tick - first_tick},
              {"round_trips_us", round_trips_us}};
  if (o.common.json)
    return write_json(result);
  return fmt::format(
      "{} pings to {} ({}), {} bytes each: {} received, {} lost; round trip min {:.1f} us, "
      "median {:.1f} us, mean {:.1f} us, p90 {:.1f} us, max {:.1f} us\n",
      o.count, o.common.uri, device->description().serial, o.payload, sorted.size(), lost,
      sorted.front(), quantile(sorted, 0.5), mean, quantile(sorted, 0.9), sorted.back());
}

}  // namespace

Command add_ping_command(CLI::App& app) {
  auto options = std::make_shared<PingOptions>();
  CLI::App* command =
      app.add_subcommand("ping", "Round-trip latency to a board (no state touched)");
  add_uri_option(*command, options->common);
  command->add_option("-n,--count", options->count, "Pings to send")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  command->add_option("--payload", options->payload, "Bytes echoed by each ping")
      ->check(CLI::Range(std::size_t{0}, driver::kMaxPingPayload))
      ->capture_default_str();
  command->add_option("--interval-ms", options->interval_ms, "Pause between pings")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  command->add_option("--timeout-ms", options->timeout_ms, "Deadline of each ping")
      ->check(CLI::Range(1, 600000))
      ->capture_default_str();
  add_json_flag(*command, options->common, "");
  return {command, [options] { return run_ping(*options); }};
}

}  // namespace kelvin::tools::cli
