#include <algorithm>
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
  const std::string where = scale_out.ranks > 1 ? fmt::format("{} boards ({} on {})",
                                                              scale_out.ranks, local_chains, serial)
                                                : serial;
  return fmt::format("{} on {}: beta {:g}, best E {}, {}, {} sweeps in {} run{}", method, where,
                     betas.empty() ? 0.0 : betas.back(), best_energy, target_text(*this), sweeps,
                     runs, runs == 1 ? "" : "s") +
         warnings_suffix();
}

ReportField TemperingSummary::trace_field() const {
  const auto& t = coldest_energy_trace;
  if (t.empty())
    return group("coldest_energy_trace", "coldest replica's energy",
                 {field("points", "points", 0)});
  const std::size_t half = t.size() / 2;
  double tail = 0.0;
  for (std::size_t k = half; k < t.size(); ++k)
    tail += static_cast<double>(t[k]);
  return group("coldest_energy_trace", "coldest replica's energy",
               {field("points", "points", t.size()), field("first", "first", t.front()),
                field("last", "last", t.back()),
                field("min", "lowest", *std::min_element(t.begin(), t.end())),
                field("mean_last_half", "mean of the last half",
                      tail / static_cast<double>(t.size() - half))},
               "after each run");
}

ReportFields TemperingSummary::fields() const {
  return with_job_fields({
      field("method", "method", std::string(tempering ? "parallel tempering" : "plain Gibbs")),
      field("nodes", "nodes", nodes),
      field("chains", "chains", chains, "", "all ranks"),
      field("first_chain", "first chain of this rank", first_chain),
      field("local_chains", "chains on this rank's board", local_chains),
      field("betas", "betas (realized)", betas, "", "", 4),
      field("beta_codes", "beta codes", beta_codes),
      field("acceptance", "swap acceptance (k, k+1)", acceptance, "", "", 3),
      field("swaps_proposed", "swaps proposed", swaps_proposed),
      field("swaps_accepted", "swaps accepted", swaps_accepted),
      field("cross_rank_swaps_proposed", "swaps proposed across ranks", cross_rank_swaps_proposed,
            "", "between chains on different ranks' boards"),
      field("cross_rank_swaps_accepted", "swaps accepted across ranks", cross_rank_swaps_accepted),
      field("sweeps_per_exchange", "sweeps per exchange", sweeps_per_exchange),
      field("burn_in_sweeps", "burn-in sweeps", burn_in_sweeps),
      field("sweeps", "sweeps per chain", sweeps, "", "burn-in included"),
      field("runs", "runs", runs),
      field("target_energy", "target energy", target_energy),
      field("target_in_coldest_only", "target counted in the coldest only", target_in_coldest_only),
      field("sweeps_to_target", "sweeps to the target", sweeps_to_target, "", target_text(*this)),
      field("best_energy", "best energy", best_energy),
      trace_field(),
      field("coldest_samples", "samples at the target beta", coldest_samples),
      group("scale_out", "scale-out", scale_out.fields(), scale_out.brief()),
  });
}

std::string TemperingSummary::full_report() const {
  return render_report(tempering ? "Parallel tempering summary" : "Plain Gibbs summary", fields());
}

std::string TemperingSummary::ladder_table() const {
  std::string out =
      fmt::format("{:>4}  {:>10}  {:>6}  {:>12}\n", "k", "beta", "code", "swap k,k+1");
  for (std::size_t k = 0; k < betas.size(); ++k) {
    const std::string swap = k < acceptance.size() && swaps_proposed[k] > 0
                                 ? fmt::format("{:.3f}", acceptance[k])
                                 : std::string("-");
    out += fmt::format("{:>4}  {:>10.5g}  {:>6}  {:>12}\n", k, betas[k], beta_codes[k], swap);
  }
  return out;
}

}  // namespace kelvin::runtime
