#include "kelvin/runtime/pbit/ising_sampling.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

#include <fmt/format.h>

#include "beta_codes.hpp"
#include "chain_statistics.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/calibration/calibration_file.hpp"
#include "option_checks.hpp"
#include "pbit_job.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Room a run's reply needs next to its recorded samples: one varint sum per lattice node (at
// most 10 bytes each) and the envelope.
constexpr std::uint64_t kSumBytesPerNode = 10;
constexpr std::uint64_t kReplyEnvelopeBytes = 1024;
// Two-sided 95% Student-t quantiles for 1 and 2 degrees of freedom.
constexpr double kT95[] = {12.706, 4.303};

std::string quantity_name(const IsingModel& m, std::size_t q) {
  if (q < m.nodes)
    return fmt::format("node {}", q);
  const auto& [i, j, w] = m.edges[q - m.nodes];
  return fmt::format("edge ({}, {})", i, j);
}

std::string stderr_method_text(ErrorBars used, const detail::ChainStatistics& stats) {
  const std::uint32_t c = stats.chains();
  const std::uint64_t per_batch = stats.batches() ? stats.per_chain() / stats.batches() : 0;
  switch (used) {
    case ErrorBars::kBetweenChains:
      return fmt::format("spread of the {} chain means (Student-t, {} degrees of freedom)", c,
                         stats.between_chains_dof());
    case ErrorBars::kBatchMeans:
      if (stats.batch_means_dof() == 0)
        return "none: too few samples per chain for two batches";
      if (c == 1) {
        return fmt::format(
            "batch means of the chain ({} batches of about {} samples; Student-t, {} degrees of "
            "freedom; one chain cannot reveal a mode it never visited: use 4 or more chains for "
            "a model that may have several)",
            stats.batches(), per_batch, stats.batch_means_dof());
      }
      return fmt::format(
          "batch means within each of the {} chains ({} batches of about {} samples each, "
          "pooled; Student-t, {} degrees of freedom)",
          c, stats.batches(), per_batch, stats.batch_means_dof());
    default:
      return "none";
  }
}

}  // namespace

const char* to_string(ErrorBars error_bars) noexcept {
  switch (error_bars) {
    case ErrorBars::kAuto:
      return "auto";
    case ErrorBars::kBetweenChains:
      return "chains";
    case ErrorBars::kBatchMeans:
      return "batches";
    case ErrorBars::kNone:
      return "none";
  }
  return "?";
}

void IsingSamplingOptions::validate() const {
  const detail::OptionChecks check("IsingSamplingOptions");
  check.in_range("sweeps", sweeps, std::uint64_t{1}, std::uint64_t{1} << 32);
  check.in_range("burn_in_sweeps", burn_in_sweeps, std::uint64_t{0}, std::uint64_t{1} << 32);
  check.in_range("chains", chains, 1u, 100000u);
  check.at_least("beta", beta, 0.0);
  for (const double b : beta_schedule)
    check.at_least("beta_schedule entry", b, 0.0);
  check.in_range("batches", batches, 2u, 1000u);
  check.in_range("max_record_bytes", max_record_bytes, std::uint64_t{0}, std::uint64_t{1} << 40);
  if (error_bars == ErrorBars::kBetweenChains && chains < 2)
    check.fail("error_bars = chains needs chains >= 2 (one chain: batches)");
  check.timeout(timeout);
  calibration.validate();
}

void IsingSamplingOptions::validate(const driver::PbitDescription& board) const {
  validate();
  const detail::OptionChecks check("IsingSamplingOptions");
  if (chains > board.max_chains) {
    check.fail(fmt::format("chains = {} (the board runs at most {} chains side by side)", chains,
                           board.max_chains));
  }
  if (beta_schedule.size() > board.max_schedule_length) {
    check.fail(fmt::format("beta_schedule has {} entries (the board holds at most {})",
                           beta_schedule.size(), board.max_schedule_length));
  }
  detail::realize_betas(board.beta, beta, beta_schedule, check);
}

IsingSamplingResult sample_ising(driver::PbitBoard& board, const IsingModel& model,
                                 const IsingSamplingOptions& options) {
  // Everything the options and the board's description can refuse, before any device work.
  options.validate(board.pbit());
  const auto applied = calibration::resolve_calibration(options.calibration, board.description());
  const detail::RealizedBetas betas =
      detail::realize_betas(board.pbit().beta, options.beta, options.beta_schedule,
                            detail::OptionChecks("IsingSamplingOptions"));
  const std::vector<std::uint32_t>& schedule = betas.codes;
  driver::LatticeProgram program = map_to_lattice(model, board.pbit());
  applied.correct_pbit_biases(program, board.pbit());
  const detail::PbitJob job(board, options.timeout);
  const driver::CodeScale& beta_scale = board.pbit().beta;

  driver::SamplingRequest request;
  request.sweeps = options.sweeps;
  request.chains = options.chains;
  request.burn_in_sweeps = options.burn_in_sweeps;
  request.sample_every = 1;
  if (options.samples > 0) {
    const std::uint64_t every =
        std::max<std::uint64_t>(1, options.sweeps * options.chains / options.samples);
    request.sample_every =
        static_cast<std::uint32_t>(std::min<std::uint64_t>({every, options.sweeps, UINT32_MAX}));
  }
  request.reset_state = true;
  const std::uint64_t per_chain = request.sweeps / request.sample_every;
  const std::uint64_t lattice_nodes = board.pbit().nodes();
  const std::uint64_t sample_bytes = (lattice_nodes + 7) / 8;
  const std::size_t quantities = model.nodes + model.edges.size();

  IsingSamplingResult out;
  IsingSamplingSummary& s = out.summary;
  s.error_bars_given = to_string(options.error_bars);
  ErrorBars used = options.error_bars;
  if (used == ErrorBars::kAuto)
    used = options.chains >= 2 ? ErrorBars::kBetweenChains : ErrorBars::kBatchMeans;
  // Samples per chain that one run may record, next to its sums, within the board's limit.
  const std::uint64_t room = board.pbit().max_record_bits / 8;
  const std::uint64_t headroom = kSumBytesPerNode * lattice_nodes + kReplyEnvelopeBytes;
  const std::uint64_t per_run =
      room > headroom ? (room - headroom) / (std::uint64_t{options.chains} * sample_bytes) : 0;
  const std::uint64_t record_bytes = per_chain * options.chains * sample_bytes;
  if (used != ErrorBars::kNone) {
    std::string why;
    if (!board.description().has_capability(driver::capability::kSampleRecord)) {
      why = "this board cannot record samples (sample_record)";
    } else if (per_run == 0) {
      why = fmt::format("one sample of each of {} chains exceeds the board's record limit",
                        options.chains);
    } else if (record_bytes > options.max_record_bytes) {
      why = fmt::format(
          "they need every sample recorded, {} bytes ({} samples of {} lattice nodes), more "
          "than max_record_bytes = {}; take fewer samples (--samples) to get them",
          record_bytes, per_chain * options.chains, lattice_nodes, options.max_record_bytes);
    }
    if (!why.empty()) {
      s.warnings.push_back("no error bars or mixing diagnostics: " + why);
      used = ErrorBars::kNone;
    }
  }
  s.error_bars_used = to_string(used);

  board.program_lattice(program, job.deadline());
  board.set_clamps({}, job.deadline());
  board.set_beta_schedule(schedule, job.deadline());
  std::uint64_t codes_written = board.pbit().edge_count + lattice_nodes + schedule.size();
  double host_flops = 0.0;

  out.mean.assign(model.nodes, 0.0);
  out.mean_stderr.assign(model.nodes, kNaN);
  out.mean_split_rhat.assign(model.nodes, kNaN);
  out.mean_ess.assign(model.nodes, kNaN);
  out.edge_correlation_stderr.assign(model.edges.size(), kNaN);
  out.edge_split_rhat.assign(model.edges.size(), kNaN);
  out.edge_ess.assign(model.edges.size(), kNaN);
  if (used == ErrorBars::kNone) {
    request.accumulate_moments = true;
    const driver::SamplingResult run = board.sample(request, job.deadline());
    s.runs = 1;
    for (std::uint32_t i = 0; i < model.nodes; ++i)
      out.mean[i] = run.mean(i);
    for (const auto& [i, j, w] : model.edges)
      out.edge_correlations.emplace_back(i, j,
                                         run.edge_correlation(*board.lattice().edge_index(i, j)));
    s.stderr_method = "none";
  } else {
    // Runs of at most per_run samples per chain: the first with the burn-in and fresh random
    // states, the rest warm-started. The board keys its random numbers by its global sweep
    // counter, so the chains run exactly as in one long run; a schedule restarts with every run,
    // so each run gets the rest of it.
    detail::ChainStatistics stats(options.chains, per_chain, quantities, options.batches);
    std::vector<std::int8_t> values(quantities);
    std::vector<std::int64_t> node_sums(model.nodes);
    std::uint64_t done = 0, job_sweeps = 0;
    std::size_t loaded_from = 0;
    while (done < per_chain) {
      const std::uint64_t take = std::min(per_run, per_chain - done);
      driver::SamplingRequest run = request;
      run.sweeps =
          take * request.sample_every +
          (done + take == per_chain ? request.sweeps - per_chain * request.sample_every : 0);
      run.burn_in_sweeps = done == 0 ? request.burn_in_sweeps : 0;
      run.reset_state = done == 0;
      run.record_samples = true;
      const std::size_t from =
          static_cast<std::size_t>(std::min<std::uint64_t>(job_sweeps, schedule.size() - 1));
      if (from != loaded_from) {
        board.set_beta_schedule(std::span(schedule).subspan(from), job.deadline());
        codes_written += schedule.size() - from;
        loaded_from = from;
      }
      const driver::SamplingResult r = board.sample(run, job.deadline());
      ++s.runs;
      if (r.recorded_samples() != take * options.chains) {
        throw Error(ErrorKind::kProtocol,
                    fmt::format("run {} recorded {} samples; {} chains x {} were asked for",
                                r.run_id, r.recorded_samples(), options.chains, take));
      }
      std::fill(node_sums.begin(), node_sums.end(), 0);
      for (std::uint32_t c = 0; c < options.chains; ++c) {
        for (std::uint64_t t = 0; t < take; ++t) {
          const std::uint64_t k = std::uint64_t{c} * take + t;  // chain-major, then time
          for (std::uint32_t i = 0; i < model.nodes; ++i) {
            values[i] = static_cast<std::int8_t>(r.recorded_spin(k, i));
            node_sums[i] += values[i];
          }
          for (std::size_t e = 0; e < model.edges.size(); ++e) {
            const auto& [i, j, w] = model.edges[e];
            values[model.nodes + e] = static_cast<std::int8_t>(values[i] * values[j]);
          }
          stats.add(c, values);
        }
      }
      for (std::uint32_t i = 0; i < model.nodes; ++i) {
        if (node_sums[i] != r.spin_sums.at(i)) {
          throw Error(ErrorKind::kProtocol,
                      fmt::format("run {}: the board's sum of node {} ({}) disagrees with its "
                                  "recorded samples ({})",
                                  r.run_id, i, r.spin_sums[i], node_sums[i]));
        }
      }
      host_flops +=
          static_cast<double>(take * options.chains) *
          (2.0 * static_cast<double>(quantities) + static_cast<double>(model.edges.size()));
      s.recorded_bytes += take * options.chains * sample_bytes;
      done += take;
      job_sweeps += run.burn_in_sweeps + run.sweeps;
    }

    double worst_rhat = -1.0, worst_ess = std::numeric_limits<double>::infinity();
    std::size_t rhat_at = 0, ess_at = 0, first_frozen = 0;
    for (std::size_t q = 0; q < quantities; ++q) {
      const detail::ChainStatistics::Estimate e = stats.estimate(q);
      const double se =
          used == ErrorBars::kBetweenChains ? e.stderr_between_chains : e.stderr_batch_means;
      if (q < model.nodes) {
        out.mean[q] = e.mean;
        out.mean_stderr[q] = se;
        out.mean_split_rhat[q] = e.split_rhat;
        out.mean_ess[q] = e.ess;
      } else {
        const auto& [i, j, w] = model.edges[q - model.nodes];
        out.edge_correlations.emplace_back(i, j, e.mean);
        out.edge_correlation_stderr[q - model.nodes] = se;
        out.edge_split_rhat[q - model.nodes] = e.split_rhat;
        out.edge_ess[q - model.nodes] = e.ess;
      }
      if (e.frozen && s.frozen++ == 0)
        first_frozen = q;
      if (!std::isnan(e.split_rhat) && e.split_rhat > worst_rhat) {
        worst_rhat = e.split_rhat;
        rhat_at = q;
      }
      if (!std::isnan(e.ess) && e.ess < worst_ess) {
        worst_ess = e.ess;
        ess_at = q;
      }
    }
    const std::uint64_t dof =
        used == ErrorBars::kBetweenChains ? stats.between_chains_dof() : stats.batch_means_dof();
    if (dof > 0)
      s.stderr_dof = dof;
    s.stderr_method = stderr_method_text(used, stats);
    s.batches = stats.batches();
    s.split_rhat_sequences = options.chains * stats.segments();
    if (worst_rhat >= 0.0) {
      s.split_rhat_worst = quantity_name(model, rhat_at);
      if (std::isinf(worst_rhat)) {
        s.split_rhat_worst += ": every sequence constant, not all alike (R-hat infinite)";
      } else {
        s.split_rhat_max = worst_rhat;
      }
    }
    if (std::isfinite(worst_ess)) {
      s.ess_min = worst_ess;
      s.ess_worst = quantity_name(model, ess_at);
    }
    const char* remedy =
        "run more chains (--chains), more burn-in and sweeps, or parallel tempering "
        "(--tempering)";
    if (worst_rhat > kSplitRhatLimit) {
      s.warnings.push_back(fmt::format(
          "the chains have not mixed: split R-hat {} of {} exceeds {} (Vehtari et al. 2021), "
          "so the means can be off by more than their error bars; {}",
          std::isinf(worst_rhat) ? std::string("infinite") : fmt::format("{:.3f}", worst_rhat),
          quantity_name(model, rhat_at), kSplitRhatLimit, remedy));
    }
    if (std::isfinite(worst_ess) && worst_ess < kEssPerChainLimit * options.chains) {
      s.warnings.push_back(
          fmt::format("effective sample size {:.0f} of {} is below {:.0f} per chain: the "
                      "error bars themselves are unreliable; {}",
                      worst_ess, quantity_name(model, ess_at), kEssPerChainLimit, remedy));
    }
    if (s.frozen > 0) {
      s.warnings.push_back(fmt::format(
          "{} of the {} means and correlations never changed in any chain (first: {}) and have "
          "no error bar: a strong bias does that, and so does a chain stuck in one state; {}",
          s.frozen, quantities, quantity_name(model, first_frozen), remedy));
    }
    if (used == ErrorBars::kBetweenChains && dof >= 1 && dof <= 2) {
      s.warnings.push_back(fmt::format(
          "{} chains give error bars with {} degree{} of freedom: a 95% interval is +-{} "
          "stderr; use 4 or more chains",
          options.chains, dof, dof == 1 ? "" : "s", kT95[dof - 1]));
    }
  }

  s.nodes = model.nodes;
  s.edges = static_cast<std::uint32_t>(model.edges.size());
  s.nodes_swept = static_cast<std::uint32_t>(lattice_nodes);
  s.sweeps = request.sweeps;
  s.burn_in_sweeps = request.burn_in_sweeps;
  s.chains = request.chains;
  s.sample_every = request.sample_every;
  s.beta_given = betas.given.back();
  s.beta_code = schedule.back();  // the beta that holds
  s.beta_used = beta_scale.to_physical(std::int64_t{s.beta_code});
  s.beta_step = beta_scale.lsb;
  s.beta_relative_error = betas.worst_error;
  s.schedule_length = schedule.size();
  s.schedule_first_beta = beta_scale.to_physical(std::int64_t{schedule.front()});
  s.samples = per_chain * request.chains;
  if (betas.worst_error > kBetaRelativeErrorLimit) {
    const double given = betas.given[betas.worst];
    s.warnings.push_back(fmt::format(
        "{} = {:g} is realized as {:g} (code {}; the board's beta step is {:g}), {:.1f}% off: "
        "the law sampled is that of the realized beta",
        options.beta_schedule.empty() ? std::string("beta")
                                      : fmt::format("beta_schedule[{}]", betas.worst),
        given, beta_scale.to_physical(std::int64_t{schedule[betas.worst]}), schedule[betas.worst],
        beta_scale.lsb, 100.0 * betas.worst_error));
  }

  const std::uint64_t sweeps_run = request.burn_in_sweeps + request.sweeps;
  PbitWork work;
  work.node_updates = lattice_nodes * request.chains * sweeps_run;
  work.codes_written = codes_written;  // weights, biases, beta codes
  work.values_read = s.samples * lattice_nodes;
  work.gpu_node_updates = std::uint64_t{model.nodes} * request.chains * sweeps_run;
  work.gpu_coupling_reads = 2 * model.edges.size() * request.chains * sweeps_run;
  job.finish(s, sweeps_run, work, host_flops);
  s.calibration = applied.id();
  s.calibration_file = applied.file.string();
  auto log = common::logger("kelvin.runtime");
  log->info("sample: {}", s.brief_report());
  for (const std::string& warning : s.warnings)
    log->warn("sample: {}", warning);
  return out;
}

ReportFields IsingSamplingSummary::fields() const {
  return with_job_fields({
      field("nodes", "model nodes", nodes),
      field("edges", "model edges", edges),
      field("nodes_swept", "lattice nodes swept", nodes_swept, "",
            "per chain and sweep: every lattice node, used or not"),
      field("sweeps", "sweeps per chain", sweeps, "", "after the burn-in"),
      field("burn_in", "burn-in sweeps", burn_in_sweeps),
      field("chains", "chains", chains),
      field("sample_every", "sampled every", sample_every, "sweeps"),
      field("beta_given", "beta given", beta_given, "",
            schedule_length == 1 ? "" : "the schedule's last entry"),
      field("beta_used", "beta used", beta_used, "", "code x step: the one that holds"),
      field("beta_code", "beta code", beta_code),
      field("beta_step", "beta step", beta_step, "", "quantization step = smallest positive beta"),
      field("beta_relative_error", "beta quantization", beta_relative_error, "",
            "largest |used - given| / given", 3),
      field("schedule_length", "beta schedule length", schedule_length, "sweeps",
            "1: one beta throughout"),
      field("schedule_first_beta", "first beta of the schedule", schedule_first_beta),
      field("samples", "samples", samples, "", "over all chains"),
      field("runs", "board runs", runs),
      field("recorded_bytes", "recorded sample bytes", recorded_bytes, "",
            "moved over the link for the error bars"),
      field("error_bars_given", "error bars given", error_bars_given, "",
            "auto, chains, batches or none"),
      field("error_bars_used", "error bars used", error_bars_used),
      field("stderr_method", "stderr", stderr_method),
      field("stderr_dof", "stderr degrees of freedom", stderr_dof),
      field("batches", "batches per chain", batches, "", "batch means and ESS"),
      field("split_rhat_max", "worst split R-hat", split_rhat_max, "",
            fmt::format("warns above {}", kSplitRhatLimit), 4),
      field("split_rhat_worst", "worst split R-hat of", split_rhat_worst),
      field("split_rhat_sequences", "split R-hat sequences", split_rhat_sequences, "",
            "half-chains (quarters of one chain)"),
      field("ess_min", "smallest ESS", ess_min, "",
            fmt::format("warns below {:g} per chain", kEssPerChainLimit), 4),
      field("ess_worst", "smallest ESS of", ess_worst),
      field("frozen", "frozen", frozen, "", "means and correlations that never changed"),
  });
}

std::string IsingSamplingSummary::brief_report() const {
  const std::string beta_text = schedule_length == 1
                                    ? fmt::format("beta {:g}", beta_used)
                                    : fmt::format("a {}-entry beta schedule from {:g} to {:g}",
                                                  schedule_length, schedule_first_beta, beta_used);
  std::string bars = "no error bars";
  if (stderr_dof) {
    bars = fmt::format("error bars from {}, {} dof",
                       error_bars_used == "chains" ? "chains" : "batch means", *stderr_dof);
  }
  if (split_rhat_max)
    bars += fmt::format(", worst split R-hat {:.3f}", *split_rhat_max);
  if (ess_min)
    bars += fmt::format(", smallest ESS {:.0f}", *ess_min);
  return fmt::format("{} samples ({} chain{} x {} sweeps, every {}; burn-in {}) at {} on {}; {}",
                     samples, chains, chains == 1 ? "" : "s", sweeps, sample_every, burn_in_sweeps,
                     beta_text, serial, bars) +
         warnings_suffix();
}

std::string IsingSamplingSummary::full_report() const {
  return render_report("Sampling summary", fields());
}

}  // namespace kelvin::runtime
