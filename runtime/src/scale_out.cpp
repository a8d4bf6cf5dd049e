#include "kelvin/runtime/scale_out.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace kelvin::runtime {

namespace {

// A ledger as doubles, for one sum over the ranks (counts are far below 2^53).
std::vector<double> ledger_values(const EnergyLedger& e) {
  return {e.analog_j,
          e.dac_j,
          e.adc_j,
          e.io_j,
          e.host_j,
          static_cast<double>(e.activity.dac_codes),
          static_cast<double>(e.activity.adc_conversions),
          static_cast<double>(e.activity.cell_sample_periods),
          static_cast<double>(e.io_bytes),
          e.host_flops,
          e.gpu_flops,
          e.gpu_j};
}

EnergyLedger ledger_from(const std::vector<double>& v) {
  EnergyLedger e;
  e.analog_j = v[0];
  e.dac_j = v[1];
  e.adc_j = v[2];
  e.io_j = v[3];
  e.host_j = v[4];
  e.activity.dac_codes = static_cast<std::uint64_t>(v[5]);
  e.activity.adc_conversions = static_cast<std::uint64_t>(v[6]);
  e.activity.cell_sample_periods = static_cast<std::uint64_t>(v[7]);
  e.io_bytes = static_cast<std::uint64_t>(v[8]);
  e.host_flops = v[9];
  e.gpu_flops = v[10];
  e.gpu_j = v[11];
  return e;
}

}  // namespace

ScaleOutSummary gather_scale_out(Collective& group, const JobSummary& job,
                                 common::Deadline deadline) {
  ScaleOutSummary s;
  s.ranks = group.size();
  s.rank = group.rank();
  // The stats as they are before this gather: the job's own communication.
  const CommunicationStats stats = group.stats();
  s.communication_time_s = stats.seconds;
  s.collective_operations = stats.operations;
  std::vector<double> mine = ledger_values(job.energy);
  mine.push_back(job.device_time_s);
  mine.push_back(stats.seconds);
  mine.push_back(static_cast<double>(stats.bytes));
  std::vector<std::size_t> counts;
  const auto all =
      group.gather_all(std::span<const double>(mine), deadline, "scale-out summary", &counts);
  std::vector<double> ledger_sum(mine.size() - 3, 0.0);
  for (std::size_t r = 0; r < counts.size(); ++r) {
    const double* v = all.data() + r * mine.size();
    for (std::size_t i = 0; i < ledger_sum.size(); ++i)
      ledger_sum[i] += v[i];
    const double device = v[ledger_sum.size()];
    s.device_time_s = std::max(s.device_time_s, device);
    s.device_time_sum_s += device;
    s.communication_time_max_s = std::max(s.communication_time_max_s, v[ledger_sum.size() + 1]);
    s.collective_bytes += static_cast<std::uint64_t>(v[ledger_sum.size() + 2]);
  }
  s.energy = ledger_from(ledger_sum);
  const auto& label = group.label();
  for (const auto& part :
       group.gather_all(std::span<const std::uint8_t>(
                            reinterpret_cast<const std::uint8_t*>(label.data()), label.size()),
                        deadline, "scale-out labels"))
    s.boards.emplace_back(part.begin(), part.end());
  return s;
}

ReportFields ScaleOutSummary::fields() const {
  return {
      field("ranks", "ranks", ranks),
      field("rank", "this rank", rank),
      field("boards", "boards, by rank", boards),
      field("device_time_s", "device time", device_time_s, "s", "modelled; the slowest board"),
      field("device_time_sum_s", "device time, all boards", device_time_sum_s, "s",
            "board-seconds"),
      field("communication_time_s", "communication", communication_time_s, "s",
            "this rank, in collectives, waiting included"),
      field("communication_time_max_s", "communication, slowest rank", communication_time_max_s,
            "s"),
      field("collective_operations", "collective operations", collective_operations),
      field("collective_bytes", "collective bytes", collective_bytes, "", "all ranks"),
      group("energy", "energy, all boards", energy.fields()),
  };
}

std::string ScaleOutSummary::brief() const {
  return fmt::format(
      "{} ranks, device {:.3g} s (slowest board), communication {:.3g} s (max over "
      "ranks)",
      ranks, device_time_s, communication_time_max_s);
}

}  // namespace kelvin::runtime
