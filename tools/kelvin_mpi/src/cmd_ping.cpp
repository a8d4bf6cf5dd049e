// kelvin-mpi ping [--uri TEMPLATE | --uris A,B,...] [-n N] [--json]
//
// The two costs a distributed job pays besides its boards' runs: each rank's board round trip
// (Ping, as `kelvin ping`) and the group's collective latency (a sum of one double, as every
// Krylov reduction is, and a gather of 4 KiB, as a boundary exchange is), N of each, medians.
// docs/scale-out.md builds its board-farm estimate from these numbers.
#include <algorithm>
#include <chrono>
#include <vector>

#include <fmt/format.h>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/ping.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/kelvin_mpi/mpi_commands.hpp"

namespace kelvin::tools::kelvin_mpi {

namespace {

struct PingOptions {
  RankOptions ranks;
  cli::CommonOptions common;
  int count = 100;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

template <typename Body>
double median_us(int count, Body&& body) {
  std::vector<double> t;
  for (int k = 0; k < count; ++k) {
    const auto start = std::chrono::steady_clock::now();
    body();
    t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                    .count());
  }
  return median(std::move(t));
}

std::string run(const PingOptions& o, runtime::Collective& group) {
  const common::Deadline deadline = common::Deadline::after(o.common.timeout());
  const std::string uri = rank_uri(o.ranks, group);
  std::unique_ptr<driver::Device> device;
  group.checked("open the board", deadline, [&] {
    device = driver::backends::open(uri);
    group.set_label(board_label(uri, device->description().serial));
  });
  // Rounds of at most 256 pings, each followed by an agreement: a rank whose board fails stops
  // every rank at the end of the round, not at the deadline.
  std::vector<double> round_medians;
  for (int done = 0; done < o.count;) {
    const int n = std::min(256, o.count - done);
    group.checked("ping the board", deadline, [&] {
      round_medians.push_back(median_us(n, [&] { driver::ping(*device, 0, deadline); }));
    });
    done += n;
  }
  const double board_us = median(round_medians);
  const double sum_us = median_us(o.count, [&] { group.sum(1.0, deadline, "latency sum"); });
  const std::vector<std::uint8_t> payload(4096, 0);
  const double gather_us = median_us(o.count, [&] {
    group.gather_all(std::span<const std::uint8_t>(payload), deadline, "latency gather");
  });
  // Every rank's board round trip, to rank 0.
  const std::vector<double> mine = {board_us};
  const auto boards = group.gather_all(std::span<const double>(mine), deadline, "board times");
  std::vector<std::string> labels;
  for (const auto& part : group.gather_all(
           std::span<const std::uint8_t>(
               reinterpret_cast<const std::uint8_t*>(group.label().data()), group.label().size()),
           deadline, "labels"))
    labels.emplace_back(part.begin(), part.end());
  if (o.common.json) {
    cli::Json ranks = cli::Json::array();
    for (std::size_t r = 0; r < boards.size(); ++r)
      ranks.push_back({{"rank", r}, {"board", labels[r]}, {"board_round_trip_us", boards[r]}});
    return cli::write_json({{"ranks", group.size()},
                            {"pings", o.count},
                            {"collective_sum_us", sum_us},
                            {"collective_gather_4k_us", gather_us},
                            {"boards", ranks}});
  }
  std::string out = fmt::format(
      "{} ranks, medians of {}: sum of one double {:.1f} us, gather of "
      "4 KiB {:.1f} us\n",
      group.size(), o.count, sum_us, gather_us);
  for (std::size_t r = 0; r < boards.size(); ++r)
    out += fmt::format("rank {}: {}: board round trip {:.1f} us\n", r, labels[r], boards[r]);
  return out;
}

}  // namespace

Command add_ping_command(CLI::App& app) {
  auto o = std::make_shared<PingOptions>();
  CLI::App* command =
      app.add_subcommand("ping", "Each rank's board round trip and the group's collective latency");
  add_rank_options(*command, o->ranks, "sim:resonator?cells=8&seed={rank}");
  command->add_option("-n", o->count, "Round trips of each kind")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  cli::add_json_flag(*command, o->common, "ranks, medians and every rank's board");
  cli::add_timeout_option(*command, o->common, std::chrono::seconds(60), "the whole run");
  return {command, [o](runtime::Collective& group) { return run(*o, group); }};
}

}  // namespace kelvin::tools::kelvin_mpi
