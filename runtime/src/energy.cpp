#include "kelvin/runtime/energy.hpp"

#include <cmath>

#include <fmt/format.h>

namespace kelvin::runtime {
namespace {

// "12.3 uJ" with an SI prefix.
std::string joules(double j) {
  static constexpr struct {
    double scale;
    const char* prefix;
  } kUnits[] = {{1.0, ""}, {1e-3, "m"}, {1e-6, "u"}, {1e-9, "n"}, {1e-12, "p"}, {1e-15, "f"}};
  for (const auto& u : kUnits) {
    if (std::abs(j) >= u.scale)
      return fmt::format("{:.3g} {}J", j / u.scale, u.prefix);
  }
  return fmt::format("{:.3g} J", j);
}

}  // namespace

std::string EnergyLedger::brief() const {
  return fmt::format("{} (analog {}, DAC {}, ADC {}, I/O {}, host {}); GPU digitally {}",
                     joules(total_j()), joules(analog_j), joules(dac_j), joules(adc_j),
                     joules(io_j), joules(host_j), joules(gpu_j));
}

ReportFields EnergyLedger::fields() const {
  return {
      field("total_j", "total", total_j(), "J", "modelled"),
      field("analog_j", "analog", analog_j, "J"),
      field("dac_j", "DAC", dac_j, "J"),
      field("adc_j", "ADC", adc_j, "J"),
      field("io_j", "I/O", io_j, "J"),
      field("host_j", "host", host_j, "J"),
      field("gpu_equivalent_j", "GPU doing it digitally", gpu_j, "J"),
      field("dac_codes", "DAC codes written", activity.dac_codes),
      field("adc_conversions", "ADC conversions", activity.adc_conversions),
      field("cell_sample_periods", "cell sample periods", activity.cell_sample_periods),
      field("io_bytes", "link bytes", io_bytes),
      field("host_flops", "host FLOPs", host_flops),
      field("gpu_flops", "GPU FLOPs", gpu_flops),
      field("brief", "in brief", brief()),
  };
}

namespace flops {

double dense_job_host(double n, double k) {
  return 2.0 * n * n * n + 10.0 * n * n * k;
}

double cholesky_solve(double n) {
  return n * n * n / 3.0 + 2.0 * n * n;
}

}  // namespace flops

EnergyLedger make_ledger(const driver::BoardActivity& activity, double sample_period_s,
                         std::uint64_t io_bytes, double host_flops, double gpu_flops,
                         const EnergyModel& model) {
  EnergyLedger l;
  l.activity = activity;
  l.io_bytes = io_bytes;
  l.host_flops = host_flops;
  l.gpu_flops = gpu_flops;
  l.analog_j = model.analog_per_cell_us * static_cast<double>(activity.cell_sample_periods) *
               sample_period_s * 1e6;
  l.dac_j = model.dac_per_code * static_cast<double>(activity.dac_codes);
  l.adc_j = model.adc_per_conversion * static_cast<double>(activity.adc_conversions);
  l.io_j = model.io_per_byte * static_cast<double>(io_bytes);
  l.host_j = model.host_per_flop * host_flops;
  l.gpu_j = model.gpu_per_flop * gpu_flops;
  return l;
}

EnergyLedger make_pbit_ledger(const PbitWork& work, const EnergyModel& model) {
  EnergyLedger l;
  l.activity = {work.codes_written, work.values_read, work.node_updates};
  l.io_bytes = work.io_bytes;
  l.analog_j = model.pbit_per_update * static_cast<double>(work.node_updates);
  l.dac_j = model.pbit_per_write * static_cast<double>(work.codes_written);
  l.adc_j = model.pbit_per_read * static_cast<double>(work.values_read);
  l.io_j = model.io_per_byte * static_cast<double>(work.io_bytes);
  l.gpu_flops = model.gpu_flops_per_pbit_update_base * static_cast<double>(work.gpu_node_updates) +
                2.0 * static_cast<double>(work.gpu_coupling_reads);
  l.gpu_j = model.gpu_per_flop * l.gpu_flops;
  return l;
}

EnergyLedger make_pbit_ledger(std::uint64_t node_updates, std::uint64_t codes_written,
                              std::uint64_t values_read, std::uint64_t io_bytes,
                              std::uint32_t degree, const EnergyModel& model) {
  return make_pbit_ledger(
      {node_updates, codes_written, values_read, io_bytes, node_updates, node_updates * degree},
      model);
}

BoardSnapshot BoardSnapshot::of(driver::ResonatorBoard& board) {
  const auto stats = board.device().stats();
  return {board.activity(), stats.bytes_sent + stats.bytes_received};
}

EnergyLedger ledger_since(driver::ResonatorBoard& board, const BoardSnapshot& before,
                          double host_flops, double gpu_flops, const EnergyModel& model) {
  const BoardSnapshot now = BoardSnapshot::of(board);
  return make_ledger(now.activity - before.activity, board.description().sample_period_s(),
                     now.io_bytes - before.io_bytes, host_flops, gpu_flops, model);
}

}  // namespace kelvin::runtime
