// kelvin sweep [--uri URI] --set SETTING --from A --to B (--points N | --step S)
//              [--set2 SETTING --from2 A --to2 B (--points2 N | --step2 S)]
//              [--settle N] [--samples N] [--batches B] [--chains C] [--observe CELLS]
//              [--max-step SETTING=STEP]... [--limit SETTING=MIN:MAX]... [--no-restore]
//              [--diagonal-code C] [--noise-code C] [--beta B] [--json] [-o FILE.csv|FILE.h5]
//
// Sweeps one or two board settings (runtime/include/kelvin/runtime/sweep/sweep.hpp: the library
// enforces the limits, ramps and restores). On a resonator board the base configuration is the
// independent relaxing cells of `kelvin stream` (--diagonal-code, --noise-code, biases 0); on a
// p-bit board, no couplings, biases 0 and --beta. Values are in the setting's physical unit.
//
// Ctrl-C (SIGINT) stops the sweep between batches: the handler only sets a flag (a second
// Ctrl-C kills the program), the sweep restores the settings, the command prints and writes
// what was measured and exits with code 130 (kExitInterrupted).
//
// -o FILE.h5 (or .hdf5) writes a run file (sweep_run_file.hpp, docs/run-files.md); any other name
// the points as CSV (sweep_output.hpp).
#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <thread>

#include <fmt/format.h>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/sweep/sweep.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/options.hpp"
#include "progress_bar.hpp"
#include "run_file_output.hpp"
#include "sweep_output.hpp"
#include "sweep_run_file.hpp"

namespace kelvin::tools::cli {

namespace {

namespace sw = runtime::sweep;

struct SweepCliOptions {
  CommonOptions common;
  sw::Axis axis1;
  sw::Axis axis2;
  std::vector<std::string> max_steps;
  std::vector<std::string> limits;
  sw::SweepOptions job;
  bool no_restore = false;
  std::int16_t diagonal_code = 9830;
  std::uint32_t noise_code = 2000;
  double beta = 1.0;
  std::string output;
};

// Lock-free, so setting it is async-signal-safe.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
}

// SIGINT sets g_interrupted while this lives (once: SA_RESETHAND makes a second Ctrl-C kill);
// a watcher thread turns the flag into a stop request, since std::stop_source is not
// async-signal-safe.
class InterruptGuard {
 public:
  InterruptGuard() {
    g_interrupted.store(false);
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &action, &previous_);
    watcher_ = std::jthread([this](std::stop_token own) {
      while (!own.stop_requested()) {
        if (g_interrupted.load()) {
          source_.request_stop();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  ~InterruptGuard() {
    watcher_.request_stop();
    watcher_.join();
    sigaction(SIGINT, &previous_, nullptr);
  }
  std::stop_token token() const { return source_.get_token(); }

 private:
  struct sigaction previous_ {};
  std::stop_source source_;
  std::jthread watcher_;
};

// "SETTING=REST" -> {SETTING, REST}.
std::pair<std::string, std::string> split_assignment(const std::string& text, const char* flag) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError(fmt::format("{} '{}': expected SETTING=VALUE", flag, text));
  return {text.substr(0, eq), text.substr(eq + 1)};
}

double number_of(const std::string& text, const std::string& whole, const char* flag) {
  std::size_t used = 0;
  double v = 0.0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw UsageError(fmt::format("{} '{}': '{}' is not a number", flag, whole, text));
  return v;
}

sw::SweepOptions job_options(const SweepCliOptions& o, bool two_axes) {
  sw::SweepOptions job = o.job;
  job.axes = {o.axis1};
  if (two_axes)
    job.axes.push_back(o.axis2);
  for (const std::string& text : o.max_steps) {
    const auto [setting, step] = split_assignment(text, "--max-step");
    job.max_steps.push_back({setting, number_of(step, text, "--max-step")});
  }
  for (const std::string& text : o.limits) {
    const auto [setting, range] = split_assignment(text, "--limit");
    const std::size_t colon = range.find(':', 1);  // MIN may be negative, never empty
    if (colon == std::string::npos)
      throw UsageError(fmt::format("--limit '{}': expected SETTING=MIN:MAX", text));
    job.limits.push_back({setting, number_of(range.substr(0, colon), text, "--limit"),
                          number_of(range.substr(colon + 1), text, "--limit")});
  }
  job.restore = !o.no_restore;
  return job;
}

std::string run_sweep_command(const SweepCliOptions& o, bool two_axes) {
  sw::SweepOptions job = job_options(o, two_axes);
  validate_usage(job, "sweep");
  auto device = std::shared_ptr<driver::Device>(driver::backends::open(o.common.uri));
  ProgressBar progress("sweep", static_cast<double>(job.point_count()), "points");
  job.on_point = [&progress](const sw::SweepProgress& p) {
    progress.update(static_cast<double>(p.points_done));
  };
  RunRecord record{"sweep", o.common.uri, device->description()};
  record.settings = Json{
      {"axes", Json::array()},      {"settle", job.settle},   {"samples", job.samples},
      {"batches", job.batches},     {"chains", job.chains},   {"max_steps", o.max_steps},
      {"limits", o.limits},         {"restore", job.restore}, {"diagonal_code", o.diagonal_code},
      {"noise_code", o.noise_code}, {"beta", o.beta}};
  for (const sw::Axis& axis : job.axes) {
    record.settings["axes"].push_back(Json{{"setting", axis.setting},
                                           {"start", axis.start},
                                           {"stop", axis.stop},
                                           {"points", axis.point_count()}});
  }
  std::optional<run_file::RunFile> file;
  if (is_run_file_path(o.output))
    file = open_run_file(o.output, record);
  sw::SweepSummary summary;
  recording_failure(file, [&] {
    InterruptGuard interrupt;
    if (device->description().family == driver::BoardFamily::kPbit) {
      driver::PbitBoard board(device);
      sw::PbitBase base;
      base.beta_code = board.beta_code(o.beta);
      summary = sw::run_sweep(board, base, job, interrupt.token());
    } else {
      driver::ResonatorBoard board(device);
      const auto base =
          sw::ResonatorBase::independent_cells(board.cells(), o.diagonal_code, o.noise_code);
      summary = sw::run_sweep(board, base, job, interrupt.token());
    }
  });
  progress.finish();
  const Json json = sweep_json(summary);
  if (file) {
    write_sweep_data(*file, summary);
    finish_run_file(*file, json);
  } else if (!o.output.empty()) {
    write_sweep_csv(o.output, summary);
  }
  std::string out = o.common.json ? write_json(json) : sweep_text(summary);
  if (!o.common.json && !o.output.empty())
    out += fmt::format("points in {}\n", o.output);
  if (summary.interrupted) {
    throw ExitWithOutput(
        out, kExitInterrupted,
        fmt::format("interrupted: {} of {} points measured{}", summary.points_done,
                    summary.points_planned, summary.restored ? ", settings restored" : ""));
  }
  return out;
}

void add_axis_options(CLI::App& command, sw::Axis& axis, const std::string& n) {
  const std::string which = n.empty() ? "the swept" : "the second swept";
  auto* set = command.add_option("--set" + n, axis.setting,
                                 fmt::format("{} setting: bias:C, coupling:I-J or noise "
                                             "(resonator); bias:C or beta (p-bit)",
                                             n.empty() ? "The swept" : "A second swept"));
  auto* from = command.add_option("--from" + n, axis.start,
                                  fmt::format("First value of {} setting (physical units)", which));
  auto* to =
      command.add_option("--to" + n, axis.stop, fmt::format("Last value of {} setting", which));
  auto* points = command.add_option("--points" + n, axis.points, "Values, evenly spaced");
  auto* step = command.add_option("--step" + n, axis.step, "Spacing of the values instead");
  points->excludes(step);
  if (n.empty()) {
    set->required();
    from->required();
    to->required();
  } else {
    for (CLI::Option* o : {from, to, points, step})
      o->needs(set);
    set->needs(from)->needs(to);
  }
}

}  // namespace

Command add_sweep_command(CLI::App& app) {
  auto options = std::make_shared<SweepCliOptions>();
  CLI::App* command = app.add_subcommand(
      "sweep",
      "Sweep one or two board settings with step and hard limits; Ctrl-C keeps the points");
  add_uri_option(*command, options->common);
  add_axis_options(*command, options->axis1, "");
  add_axis_options(*command, options->axis2, "2");
  CLI::Option* second = command->get_option("--set2");
  sw::SweepOptions& job = options->job;
  command
      ->add_option("--settle", job.settle,
                   "Samples (p-bit: sweeps) discarded after each point's writes")
      ->capture_default_str();
  command
      ->add_option("--samples", job.samples,
                   "Samples measured per point (p-bit: sweeps of each chain)")
      ->capture_default_str();
  command->add_option("--batches", job.batches, "Batches per point, for the standard errors")
      ->capture_default_str();
  command->add_option("--chains", job.chains, "p-bit chains per run")->capture_default_str();
  command->add_option("--observe", job.observe, "Cells (nodes) measured, e.g. 0,1 (default all)")
      ->delimiter(',');
  command->add_option("--max-step", options->max_steps,
                      "SETTING=STEP: largest change per write; larger changes are ramped");
  command->add_option("--limit", options->limits,
                      "SETTING=MIN:MAX: hard limit within the board's range; a point outside "
                      "refuses the sweep before any write");
  command->add_flag("--no-restore", options->no_restore,
                    "Leave the settings at the last point instead of ramping back to the base");
  add_independent_cells_options(*command, options->diagonal_code, options->noise_code);
  command->add_option("--beta", options->beta, "p-bit boards: the base beta")
      ->capture_default_str();
  add_json_flag(*command, options->common, "summary, points, applied");
  command->add_option("-o,--output", options->output,
                      "Write the points to FILE: a run file if it ends in .h5 or .hdf5 "
                      "(docs/run-files.md), else CSV");
  command->footer(
      fmt::format("Exit code {} when interrupted (Ctrl-C), after printing the points "
                  "measured so far.",
                  kExitInterrupted));
  return {command, [options, second] { return run_sweep_command(*options, second->count() > 0); }};
}

}  // namespace kelvin::tools::cli
