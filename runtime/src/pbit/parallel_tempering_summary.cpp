#include <string>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kelvin/runtime/pbit/parallel_tempering.hpp"

namespace kelvin::runtime {
namespace {

std::string target_text(const TemperingSummary& s) {
  if (!s.target_energy)
    return "no target";
  const char* where = s.target_in_coldest_only ? " by the coldest replica" : "";
  if (s.sweeps_to_target)
    return fmt::format("target E <= {} reached{} after {} sweeps", *s.target_energy, where,
                       *s.sweeps_to_target);
  return fmt::format("target E <= {} not reached{} in {} sweeps", *s.target_energy, where,
                     s.sweeps);
}

}  // namespace

double TemperingSummary::coldest_mean(std::uint32_t node) const {
  if (node >= coldest_spin_sums.size() || coldest_samples == 0)
    return 0.0;
  return static_cast<double>(coldest_spin_sums[node]) / static_cast<double>(coldest_samples);
}

std::string TemperingSummary::brief_report() const {
  const std::string method = tempering ? fmt::format("parallel tempering, {} replicas", chains)
                                       : fmt::format("plain Gibbs, {} chains", chains);
  return fmt::format("{} on {}: beta {:g}, best E {}, {}, {} sweeps in {} run{}", method, serial,
                     betas.empty() ? 0.0 : betas.back(), best_energy, target_text(*this), sweeps,
                     runs, runs == 1 ? "" : "s");
}

std::string TemperingSummary::full_report() const {
  std::string r;
  auto line = [&r](std::string_view name, const std::string& value) {
    r += fmt::format("  {:<28} {}\n", name, value);
  };
  r += tempering ? "Parallel tempering summary\n" : "Plain Gibbs summary\n";
  line("board", serial);
  line("nodes", fmt::format("{}", nodes));
  line("chains", fmt::format("{}", chains));
  line("betas (realized)", fmt::format("{:.4g}", fmt::join(betas, ", ")));
  line("beta codes", fmt::format("{}", fmt::join(beta_codes, ", ")));
  if (tempering) {
    line("swap acceptance (k, k+1)", fmt::format("{:.3f}", fmt::join(acceptance, ", ")));
    line("swaps proposed", fmt::format("{}", fmt::join(swaps_proposed, ", ")));
  }
  line("sweeps per exchange", fmt::format("{}", sweeps_per_exchange));
  line("burn-in sweeps", fmt::format("{}", burn_in_sweeps));
  line("sweeps per chain", fmt::format("{} ({} runs)", sweeps, runs));
  line("target", target_text(*this));
  line("best energy", fmt::format("{}", best_energy));
  if (!coldest_energy_trace.empty()) {
    line("coldest replica energy",
         fmt::format("first {}, last {}, {} points", coldest_energy_trace.front(),
                     coldest_energy_trace.back(), coldest_energy_trace.size()));
  }
  line("samples at target beta", fmt::format("{}", coldest_samples));
  line("device time", fmt::format("{:.6g} ms", device_time_s * 1e3));
  line("wall time", fmt::format("{:.3g} s", wall_time_s));
  line("energy (model)", energy.brief());
  return r;
}

}  // namespace kelvin::runtime
