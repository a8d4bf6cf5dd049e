#include "train_ebm_report.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

namespace kelvin::tools::cli {
namespace {

// At most `rows` steps for the text table, evenly spread, the first and last included.
std::vector<std::size_t> shown_steps(std::size_t count, std::size_t rows) {
  std::vector<std::size_t> shown;
  if (count <= rows) {
    for (std::size_t k = 0; k < count; ++k)
      shown.push_back(k);
    return shown;
  }
  for (std::size_t r = 0; r < rows; ++r)
    shown.push_back(r * (count - 1) / (rows - 1));
  return shown;
}

}  // namespace

EbmStepRecord step_record(const runtime::BoltzmannStepResult& result) {
  const runtime::PhaseMoments& c = result.clamped;
  const runtime::PhaseMoments& f = result.free;
  double squares = 0.0;
  std::size_t terms = 0;
  for (std::size_t i = 0; i < std::min(c.mean.size(), f.mean.size()); ++i, ++terms)
    squares += (c.mean[i] - f.mean[i]) * (c.mean[i] - f.mean[i]);
  for (std::size_t e = 0; e < std::min(c.correlation.size(), f.correlation.size()); ++e, ++terms)
    squares += (c.correlation[e] - f.correlation[e]) * (c.correlation[e] - f.correlation[e]);
  const runtime::BoltzmannStepSummary& s = result.summary;
  return {s.step,          s.learning_rate,
          s.gradient_norm, terms == 0 ? 0.0 : std::sqrt(squares / static_cast<double>(terms)),
          s.codes_changed, s.weights_clipped};
}

void add_ledger(runtime::EnergyLedger& total, const runtime::EnergyLedger& step) {
  total.analog_j += step.analog_j;
  total.dac_j += step.dac_j;
  total.adc_j += step.adc_j;
  total.io_j += step.io_j;
  total.host_j += step.host_j;
  total.activity.dac_codes += step.activity.dac_codes;
  total.activity.adc_conversions += step.activity.adc_conversions;
  total.activity.cell_sample_periods += step.activity.cell_sample_periods;
  total.io_bytes += step.io_bytes;
  total.host_flops += step.host_flops;
  total.gpu_flops += step.gpu_flops;
  total.gpu_j += step.gpu_j;
}

Json train_ebm_json(const EbmTrainingRun& run, const runtime::BoltzmannTrainer& trainer) {
  const runtime::BoltzmannOptions& o = trainer.options();
  const runtime::BoltzmannModel& m = trainer.model();
  Json settings{{"batch", o.batch},
                {"free_copies", o.free_copies},
                {"chains", o.chains},
                {"burn_in", o.burn_in_sweeps},
                {"sweeps", o.sweeps},
                {"sample_every", o.sample_every},
                {"learning_rate", o.learning_rate},
                {"schedule", runtime::to_string(o.schedule)},
                {"decay_steps", o.decay_steps},
                {"momentum", o.momentum},
                {"weight_decay", o.weight_decay},
                {"beta", o.beta},
                {"beta_schedule", o.beta_schedule},
                {"rounding", runtime::to_string(o.rounding)},
                {"seed", o.seed},
                {"timeout_s", std::chrono::duration<double>(o.timeout).count()},
                {"checkpoint_every", run.checkpoint_every}};
  Json steps = Json::array();
  for (const EbmStepRecord& r : run.steps) {
    steps.push_back(Json{{"step", r.step},
                         {"learning_rate", r.learning_rate},
                         {"gradient_norm", r.gradient_norm},
                         {"moment_mismatch", r.moment_mismatch},
                         {"codes_changed", r.codes_changed},
                         {"weights_clipped", r.weights_clipped}});
  }
  return Json{
      {"uri", run.uri},
      {"data",
       Json{{"file", run.data_file}, {"examples", run.examples}, {"encoding", run.encoding}}},
      {"model", Json{{"kind", "kelvin.boltzmann-machine"},
                     {"nodes", m.nodes},
                     {"visible", m.nodes_with(runtime::NodeRole::kVisible).size()},
                     {"hidden", m.nodes_with(runtime::NodeRole::kHidden).size()},
                     {"edges", m.edges.size()},
                     {"placement", trainer.placement()}}},
      {"settings", settings},
      {"resumed_from", run.resumed_from.empty() ? Json(nullptr) : Json(run.resumed_from)},
      {"checkpoint", run.checkpoint.empty() ? Json(nullptr) : Json(run.checkpoint)},
      {"steps_run", run.steps.size()},
      {"steps_done", trainer.steps_done()},
      {"steps", steps},
      {"summary", summary_json(run.last)},
      {"device_time_s", run.device_time_s},
      {"energy", energy_json(run.energy)}};
}

std::string train_ebm_text(const EbmTrainingRun& run, const runtime::BoltzmannTrainer& trainer) {
  const runtime::BoltzmannModel& m = trainer.model();
  const std::size_t visible = m.nodes_with(runtime::NodeRole::kVisible).size();
  std::string out = fmt::format(
      "{} step{} (now {} in all) of a Boltzmann machine of {} visible + {} hidden nodes and {} "
      "edges on {} examples from {}{}\n\n",
      run.steps.size(), run.steps.size() == 1 ? "" : "s", trainer.steps_done(), visible,
      m.nodes - visible, m.edges.size(), run.examples, run.data_file,
      run.resumed_from.empty() ? "" : fmt::format(", resumed from {}", run.resumed_from));
  fmt::format_to(std::back_inserter(out), "{:>6}  {:>10}  {:>10}  {:>10}  {:>8}\n", "step", "lr",
                 "|gradient|", "mismatch", "changed");
  for (const std::size_t k : shown_steps(run.steps.size(), 10)) {
    const EbmStepRecord& r = run.steps[k];
    fmt::format_to(std::back_inserter(out), "{:>6}  {:>10.4g}  {:>10.4g}  {:>10.4g}  {:>8}\n",
                   r.step, r.learning_rate, r.gradient_norm, r.moment_mismatch, r.codes_changed);
  }
  fmt::format_to(std::back_inserter(out),
                 "\nmismatch: RMS of clamped - free moments over every node mean and edge "
                 "correlation\nlast step: {}\nenergy of training: {}\n",
                 run.last.brief_report(), run.energy.brief());
  if (!run.checkpoint.empty())
    fmt::format_to(std::back_inserter(out), "checkpoint: {}\n", run.checkpoint);
  return out;
}

}  // namespace kelvin::tools::cli
