// kelvin stream [--uri URI] --duration S [-o FILE] [--strict] [--json] [--decimation D]
//               [--max-samples N] [--reply-timeout-ms T] [--min-reply-timeout-ms T]
//               [--diagonal-code C] [--noise-code C] [--no-program] [--plain-reads]
//
// Unless --no-program, the board is first programmed as independent relaxing cells: coupling
// diagonal C (default 9830, 0.6/us on the emulated board), no off-diagonal couplings, biases 0,
// noise code (default 2000); with --no-program it streams whatever the board holds.
//
// Streams the board's ADC samples for S seconds, then stops the board and drains its ring, so
// the final counts cover every sample the stream produced: received + lost + buffered ==
// produced. On a terminal, a progress bar with live counters goes to stderr (progress_bar.hpp).
// --strict exits with code 3 if any sample was lost (after printing the result).
//
// -o FILE writes the samples as they arrive: FILE.h5 (or .hdf5) as a run file
// (stream_run_file.hpp, docs/run-files.md), any other name as .npy with a FILE.json sidecar
// (stream_file.hpp).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/resonator/sample_stream.hpp"
#include "kelvin/firmware_protocol/wire.pb.h"
#include "kelvin/runtime/energy.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/cli/options.hpp"
#include "progress_bar.hpp"
#include "run_file_output.hpp"
#include "stream_file.hpp"
#include "stream_run_file.hpp"

namespace kelvin::tools::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct StreamCliOptions {
  CommonOptions common;
  double duration_s = 1.0;
  std::string output;
  bool strict = false;
  std::uint32_t decimation = 1;
  std::uint32_t max_samples = 0;
  int reply_timeout_ms = 250;
  int min_reply_timeout_ms = 0;  // 0: fixed waits (StreamOptions' default)
  std::int16_t diagonal_code = 9830;
  std::uint32_t noise_code = 2000;
  bool no_program = false;
  bool plain_reads = false;
};

// What --no-program leaves alone: independent relaxing cells (coupling diagonal, biases 0).
struct Programmed {
  driver::SymmetricCodes couplings;
  std::vector<std::int16_t> biases;
};

Programmed independent_cells(std::uint32_t cells, const StreamCliOptions& o) {
  Programmed p{driver::SymmetricCodes(cells), std::vector<std::int16_t>(cells, 0)};
  for (std::uint32_t i = 0; i < cells; ++i)
    p.couplings.set(i, i, o.diagonal_code);
  return p;
}

// Programs the cells as independent relaxing cells. Register writes are idempotent, so a write
// whose reply was lost or damaged is simply sent again (within 10 s in all).
void program_independent_cells(driver::ResonatorBoard& board, const Programmed& p,
                               const StreamCliOptions& o) {
  const auto deadline = common::Deadline::after(std::chrono::seconds(10));
  const auto retried = [&](const auto& write) {
    for (;;) {
      try {
        write(deadline.min(common::Deadline::after(std::chrono::milliseconds(o.reply_timeout_ms))));
        return;
      } catch (const common::Error& e) {
        const bool lost =
            e.kind() == common::ErrorKind::kTimeout || e.kind() == common::ErrorKind::kBadFrame;
        if (!lost || deadline.expired())
          throw;
      }
    }
  };
  retried([&](common::Deadline d) { board.program_couplings(p.couplings, d); });
  retried([&](common::Deadline d) { board.program_biases(p.biases, d); });
  retried([&](common::Deadline d) { board.set_noise(o.noise_code, d); });
}

// The live counters after the progress bar (on a terminal only).
std::string live_text(const driver::StreamCounters& c, double elapsed_s) {
  return fmt::format("received {}  lost {}  gaps {}  overflows {}  {:.3f} MS/s", c.received, c.lost,
                     c.gaps, c.overflows,
                     elapsed_s > 0 ? static_cast<double>(c.received) / elapsed_s / 1e6 : 0.0);
}

// What a run file of this stream records about it (run_file_output.hpp).
RunRecord stream_record(const StreamCliOptions& o, const driver::ResonatorBoard& board) {
  RunRecord record{"stream", o.common.uri, board.description()};
  record.settings = Json{{"programmed", !o.no_program},
                         {"decimation", o.decimation},
                         {"max_samples", o.max_samples},
                         {"duration_s", o.duration_s},
                         {"resume_reads", !o.plain_reads}};
  if (!o.no_program) {
    record.settings["diagonal_code"] = o.diagonal_code;
    record.settings["bias_code"] = 0;
    record.settings["noise_code"] = o.noise_code;
  }
  return record;
}

std::string run_stream(const StreamCliOptions& o) {
  if (o.min_reply_timeout_ms > o.reply_timeout_ms) {
    throw UsageError(fmt::format("--min-reply-timeout-ms {} is above --reply-timeout-ms {}",
                                 o.min_reply_timeout_ms, o.reply_timeout_ms));
  }
  auto device = std::shared_ptr<driver::Device>(driver::backends::open(o.common.uri));
  driver::ResonatorBoard board(device);
  const Programmed programmed = independent_cells(board.cells(), o);
  if (!o.no_program)
    program_independent_cells(board, programmed, o);
  const runtime::BoardSnapshot before = runtime::BoardSnapshot::of(board);
  driver::StreamOptions options;
  options.request.decimation = o.decimation;
  options.max_samples_per_frame = o.max_samples;
  options.reply_timeout = std::chrono::milliseconds(o.reply_timeout_ms);
  options.min_reply_timeout = std::chrono::milliseconds(o.min_reply_timeout_ms);
  options.resume_reads = !o.plain_reads;
  const auto begin = Clock::now();
  std::optional<driver::SampleStream> started;
  try {
    started.emplace(board, options, common::Deadline::after(std::chrono::seconds(10)));
  } catch (const common::Error& e) {
    // --no-program streams registers someone else programmed; a freshly opened board (every
    // emulated one) has none, and its refusal alone does not say what to do.
    if (o.no_program && e.device_code() == firmware_protocol::wire::ERROR_CODE_NOT_PROGRAMMED) {
      throw common::Error(
          e.kind(),
          fmt::format("{}; --no-program streams what the board already holds, and nothing has "
                      "programmed this one since it was opened (an emulated board starts "
                      "unprogrammed): drop --no-program",
                      e.what()),
          e.device_code());
    }
    throw;
  }
  driver::SampleStream& stream = *started;
  std::unique_ptr<StreamWriter> file;
  if (is_run_file_path(o.output)) {
    file = std::make_unique<StreamRunFile>(o.output, stream_record(o, board), board.cells(),
                                           o.no_program ? nullptr : &programmed.couplings,
                                           programmed.biases);
  } else if (!o.output.empty()) {
    file = std::make_unique<StreamFile>(o.output, board.cells());
  }

  ProgressBar progress("stream", o.duration_s, "s", /*show_rate=*/false);
  const auto end = begin + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(o.duration_s));
  std::uint64_t first_tick = 0;
  bool have_first = false;
  const auto take = [&](const driver::StreamFrame& frame) {
    if (!have_first && frame.metadata.sample_count > 0) {
      first_tick = frame.metadata.first_tick;
      have_first = true;
    }
    if (file && (frame.metadata.sample_count > 0 || frame.metadata.lost_before > 0))
      file->append(frame.samples, frame.metadata.first_sequence, frame.metadata.lost_before);
  };
  const auto acquire_and_drain = [&] {
    while (Clock::now() < end) {
      // Not Deadline::at(end): a recv() cut off by its deadline abandons the read in flight and
      // its samples would count as lost; this overshoots the duration by one read at most.
      take(stream.recv(common::Deadline::after(std::chrono::seconds(10))));
      if (progress.enabled()) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
        progress.update(std::min(elapsed, o.duration_s), live_text(stream.counters(), elapsed));
      }
    }
    // Stop, then drain: what the ring still holds is delivered or counted.
    const auto drain_deadline = common::Deadline::after(std::chrono::seconds(10));
    stream.stop(drain_deadline);
    for (;;) {
      const driver::StreamFrame frame = stream.recv(drain_deadline);
      take(frame);
      if (frame.metadata.end_of_stream)
        break;
      if (frame.metadata.error == driver::StreamErrorKind::kTimeout) {
        throw common::Error(common::ErrorKind::kTimeout,
                            "the board's ring did not drain within 10 s after stop");
      }
    }
  };
  try {
    acquire_and_drain();
  } catch (const std::exception& e) {
    // Keep what arrived: the file is finished (with the error noted) before the error is reported.
    if (file) {
      try {
        file->finish(Json{{"uri", o.common.uri},
                          {"error", e.what()},
                          {"counters", stream_counters_json(stream.counters())}});
      } catch (const std::exception& write_error) {
        throw std::runtime_error(fmt::format("{}; and then: {}", e.what(), write_error.what()));
      }
    }
    throw;
  }
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - begin).count();
  const driver::StreamCounters c = stream.counters();
  progress.finish();
  const driver::DeviceDescription& d = board.description();
  const double sample_period_s =
      static_cast<double>(stream.ticket().ticks_per_output_sample) / d.tick_rate_hz;
  Json result = stream_counters_json(c);
  result["uri"] = o.common.uri;
  result["serial"] = d.serial;
  result["cells"] = d.cells;
  result["stream_id"] = stream.ticket().stream_id;
  result["first_tick"] = first_tick;
  result["sample_period_s"] = sample_period_s;
  result["duration_s"] = elapsed_s;
  result["samples_per_s"] = static_cast<double>(c.received) / elapsed_s;
  result["strict"] = o.strict;
  result["resumable_reads"] = stream.resumable();
  result["link"] = Json{{"bad_frames", device->stats().bad_frames},
                        {"stale_replies", device->stats().stale_replies},
                        {"bytes_received", device->stats().bytes_received}};
  result["energy"] = energy_json(runtime::ledger_since(board, before, 0.0, 0.0));
  if (file) {
    Json meta{{"uri", o.common.uri},
              {"serial", d.serial},
              {"stream_id", stream.ticket().stream_id},
              {"first_tick", first_tick},
              {"ticks_per_sample", stream.ticket().ticks_per_output_sample},
              {"tick_rate_hz", d.tick_rate_hz},
              {"adc", Json{{"lsb", d.adc.lsb}, {"offset", d.adc.offset}, {"unit", d.adc.unit}}},
              {"counters", stream_counters_json(c)}};
    file->finish(std::move(meta));
    result["file"] = file->path().string();
    file->summarize(result);
  }

  std::string out;
  if (o.common.json) {
    out = write_json(result);
  } else {
    out = fmt::format(
        "streamed {:.2f} s from {} ({} cells): received {} samples ({:.3f} MS/s), lost {} "
        "({} overflowed in the board's ring, {} on the link) in {} gaps; {} overflows, {} bad "
        "frames, {} retries; produced {} = received + lost + buffered {}: {}\n",
        elapsed_s, d.serial, d.cells, c.received, static_cast<double>(c.received) / elapsed_s / 1e6,
        c.lost, c.overflow_lost, c.transit_lost, c.gaps, c.overflows, c.bad_frames, c.retries,
        c.produced, c.buffered,
        c.produced == c.received + c.lost + c.buffered ? "exact" : "MISMATCH");
    if (file)
      out += file->describe() + "\n";
  }
  if (o.strict && c.lost > 0) {
    throw ExitWithOutput(out, kExitDataLoss,
                         fmt::format("--strict: {} samples lost ({} overflowed, {} on the link)",
                                     c.lost, c.overflow_lost, c.transit_lost));
  }
  return out;
}

}  // namespace

Command add_stream_command(CLI::App& app) {
  auto options = std::make_shared<StreamCliOptions>();
  CLI::App* command =
      app.add_subcommand("stream", "Stream ADC samples with every lost sample counted");
  add_uri_option(*command, options->common);
  command->add_option("--duration", options->duration_s, "Seconds to stream")
      ->required()
      ->check(CLI::Range(1e-3, 1e6));
  command->add_option("-o,--output", options->output,
                      "Write the samples as they arrive: FILE.h5 a run file (docs/run-files.md; "
                      "never overwritten), else FILE (.npy int16 codes) and FILE.json (gaps, "
                      "scale)");
  command->add_flag("--strict", options->strict, "Exit with code 3 if any sample was lost");
  add_json_flag(*command, options->common, "");
  command->add_option("--decimation", options->decimation, "ADC samples per output sample")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
  command
      ->add_option("--max-samples", options->max_samples,
                   "Largest frame in samples (0: one full wire frame)")
      ->capture_default_str();
  command
      ->add_option("--reply-timeout-ms", options->reply_timeout_ms,
                   "The longest wait for a reply before it is presumed lost and asked for again")
      ->check(CLI::Range(1, 60000))
      ->capture_default_str();
  command
      ->add_option("--min-reply-timeout-ms", options->min_reply_timeout_ms,
                   "Adaptive waits: resumable reads wait as measured round trips say, at "
                   "least this long (suits lossy links; 50 on the emulator); 0: fixed waits")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  add_independent_cells_options(*command, options->diagonal_code, options->noise_code);
  command->add_flag("--no-program", options->no_program,
                    "Stream what the board holds instead of programming independent cells (needs a "
                    "board something programmed before; an emulated board starts unprogrammed)");
  command->add_flag("--plain-reads", options->plain_reads,
                    "Do not resume reads after a lost reply (the reads of protocol v3 and later: "
                    "the lost reply's "
                    "samples are counted as transit loss); for comparison");
  return {command, [options] { return run_stream(*options); }};
}

}  // namespace kelvin::tools::cli
