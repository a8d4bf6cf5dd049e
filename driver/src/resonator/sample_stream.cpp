#include "kelvin/driver/resonator/sample_stream.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/firmware_protocol/wire.pb.h"

namespace kelvin::driver {

using common::Deadline;
using common::Error;
using common::ErrorKind;
namespace {

constexpr const char* kLogger = "kelvin.stream";

// SampleStream recovers lost and damaged replies itself (new request ids, its own waits and
// counters), so each call it makes is one attempt.
constexpr RequestOptions kOneAttempt{.resend = false};

bool is_device_code(const Error& e, firmware_protocol::wire::ErrorCode code) {
  return e.kind() == ErrorKind::kDevice && e.device_code() == static_cast<int>(code);
}

const StreamOptions& validated(const StreamOptions& options) {
  options.validate();
  return options;
}

bool reads_resume(const StreamOptions& options, const ResonatorBoard& board) {
  return options.resume_reads && board.description().has_capability(capability::kResumableRead);
}

// A needless retry of a resumable read costs a duplicate reply, so its wait may follow the
// measured round trips; a plain read's retry loses the first reply's samples, so it waits the
// full reply_timeout.
ReplyTimer read_timer_for(const StreamOptions& options, bool resumable) {
  if (!resumable || options.min_reply_timeout == std::chrono::milliseconds::zero())
    return ReplyTimer::fixed(options.reply_timeout);
  return ReplyTimer(options.min_reply_timeout, options.reply_timeout, 16 * options.reply_timeout);
}

double microseconds(ReplyTimer::Duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

}  // namespace

const char* to_string(StreamErrorKind kind) noexcept {
  switch (kind) {
    case StreamErrorKind::kNone:
      return "none";
    case StreamErrorKind::kOverflow:
      return "overflow";
    case StreamErrorKind::kSequenceGap:
      return "sequence gap";
    case StreamErrorKind::kBadFrame:
      return "bad frame";
    case StreamErrorKind::kTimeout:
      return "timeout";
  }
  return "unknown";
}

void StreamOptions::validate() const {
  if (reply_timeout <= std::chrono::milliseconds::zero()) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("stream reply_timeout must be positive, got {} ms", reply_timeout.count()));
  }
  if (min_reply_timeout < std::chrono::milliseconds::zero() || min_reply_timeout > reply_timeout) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("stream min_reply_timeout must be 0 (fixed waits) or in (0, "
                            "reply_timeout = {} ms], got "
                            "{} ms",
                            reply_timeout.count(), min_reply_timeout.count()));
  }
  if (poll_interval <= std::chrono::microseconds::zero() ||
      poll_interval > std::chrono::seconds(1)) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("stream poll_interval must be in (0, 1 s], got {} us", poll_interval.count()));
  }
  if (request.decimation == 0) {
    throw Error(ErrorKind::kInvalidArgument, "stream decimation must be at least 1");
  }
}

SampleStream::SampleStream(ResonatorBoard board, const StreamOptions& options, Deadline deadline)
    : board_(std::move(board)),
      options_(validated(options)),
      resumable_(reads_resume(options_, board_)),
      read_timer_(read_timer_for(options_, resumable_)) {
  start(deadline);
}

SampleStream::~SampleStream() {
  if (stopped_ || !board_.device().is_open())
    return;
  try {
    stop(Deadline::after(std::chrono::milliseconds(500)));
  } catch (const std::exception& e) {
    common::logger(kLogger)->warn("stream {}: could not stop the board's acquisition: {}",
                                  ticket_.stream_id, e.what());
  }
}

template <typename Call>
auto SampleStream::with_retries(const char* what, ReplyTimer& timer, Deadline deadline, Call call) {
  // Consecutive timeouts double the wait (ReplyTimer's backoff): a board that answers slowly (an
  // emulator behind real time, a congested link) then gets its replies through instead of every
  // reply arriving just after its request was given up, which would starve the stream.
  for (;;) {
    const auto sent = Deadline::Clock::now();
    const Deadline attempt = deadline.min(Deadline::after(timer.wait()));
    try {
      auto result = call(attempt);
      timer.on_reply(Deadline::Clock::now() - sent);
      return result;
    } catch (const Error& e) {
      // Only a lost or damaged reply is worth another try; the deadline bounds them all.
      if (e.kind() != ErrorKind::kTimeout && e.kind() != ErrorKind::kBadFrame)
        throw;
      if (deadline.expired()) {
        throw Error(ErrorKind::kTimeout,
                    fmt::format("{}: no intact reply before the deadline ({})", what, e.what()));
      }
      std::lock_guard lock(counters_mutex_);
      if (e.kind() == ErrorKind::kTimeout) {
        ++counters_.retries;
        timer.on_timeout();
      } else {
        ++counters_.bad_frames;
        pending_bad_frame_ = true;
      }
      common::logger(kLogger)->debug("{}: {}; asking again", what, e.what());
    }
  }
}

template <typename Call>
auto SampleStream::with_fixed_retries(const char* what, Deadline deadline, Call call) {
  ReplyTimer timer = ReplyTimer::fixed(options_.reply_timeout);
  auto result = with_retries(what, timer, deadline, call);
  // The first reads then wait as this exchange's round trip says, not the full reply_timeout.
  if (!read_timer_.measured() && timer.measured())
    read_timer_.on_reply(timer.smoothed_round_trip());
  return result;
}

void SampleStream::start(Deadline deadline) {
  try {
    ticket_ = with_fixed_retries("start stream", deadline, [&](Deadline attempt) {
      return board_.start_stream(options_.request, attempt, kOneAttempt);
    });
  } catch (const Error& e) {
    if (!is_device_code(e, firmware_protocol::wire::ERROR_CODE_BUSY))
      throw;
    common::logger(kLogger)->warn(
        "a stream was already running on {} (an earlier start whose reply was lost, or another "
        "program's): stopping it",
        board_.description().serial);
    with_fixed_retries("stop stream", deadline, [&](Deadline attempt) {
      board_.stop_stream(attempt, kOneAttempt);
      return 0;
    });
    ticket_ = with_fixed_retries("start stream", deadline, [&](Deadline attempt) {
      return board_.start_stream(options_.request, attempt, kOneAttempt);
    });
  }
  common::logger(kLogger)->info(
      "stream {} started at tick {} ({} ticks per sample, ring {}, {} reads)", ticket_.stream_id,
      ticket_.first_tick, ticket_.ticks_per_output_sample, ticket_.ring_capacity_samples,
      resumable_ ? "resumable" : "plain");
}

void SampleStream::stop(Deadline deadline) {
  if (stopped_)
    return;
  with_fixed_retries("stop stream", deadline, [&](Deadline attempt) {
    board_.stop_stream(attempt, kOneAttempt);
    return 0;
  });
  stopped_ = true;
}

std::uint64_t SampleStream::account(const StreamChunk& chunk, bool* overflowed) {
  if (chunk.stream_id != ticket_.stream_id) {
    throw Error(ErrorKind::kProtocol, fmt::format("stream data of stream {} while stream {} runs",
                                                  chunk.stream_id, ticket_.stream_id));
  }
  if (chunk.first_sequence < expected_sequence_ || chunk.lost < board_lost_seen_) {
    throw Error(ErrorKind::kProtocol,
                fmt::format("stream {} went backwards: sequence {} after {}, lost {} after {}",
                            ticket_.stream_id, chunk.first_sequence, expected_sequence_, chunk.lost,
                            board_lost_seen_));
  }
  const std::uint64_t gap = chunk.first_sequence - expected_sequence_;
  const std::uint64_t overwritten = chunk.lost - board_lost_seen_;
  if (overwritten > gap) {
    throw Error(ErrorKind::kProtocol,
                fmt::format("stream {}: the board reports {} samples overwritten but the sequence "
                            "skipped only {}",
                            ticket_.stream_id, overwritten, gap));
  }
  const std::uint64_t transit = gap - overwritten;
  expected_sequence_ = chunk.first_sequence + chunk.sample_count;
  board_lost_seen_ = chunk.lost;
  *overflowed = overwritten > 0;

  std::lock_guard lock(counters_mutex_);
  counters_.overflow_lost += overwritten;
  counters_.transit_lost += transit;
  counters_.lost += gap;
  counters_.received += chunk.sample_count;
  counters_.overflows = chunk.overruns;
  counters_.produced = chunk.produced;
  counters_.buffered = chunk.buffered;
  counters_.clock_slip_us = chunk.clock_slip_us;
  counters_.round_trip_us = microseconds(read_timer_.smoothed_round_trip());
  counters_.reply_wait_us = microseconds(read_timer_.wait());
  if (counters_.produced != counters_.received + counters_.lost + counters_.buffered) {
    throw Error(ErrorKind::kProtocol,
                fmt::format("stream {}: the board produced {} samples but {} were received, {} "
                            "lost and {} are buffered",
                            ticket_.stream_id, counters_.produced, counters_.received,
                            counters_.lost, counters_.buffered));
  }
  if (transit > 0) {
    common::logger(kLogger)->debug("stream {}: {} samples lost on the link before sequence {}",
                                   ticket_.stream_id, transit, chunk.first_sequence);
  }
  return gap;
}

void SampleStream::sleep_before_polling(Deadline deadline) {
  const auto wake = std::min(Deadline::Clock::now() + options_.poll_interval, deadline.when());
  std::this_thread::sleep_until(wake);
}

StreamFrame SampleStream::recv(Deadline deadline) {
  for (;;) {
    if (!board_.device().is_open()) {
      throw Error(ErrorKind::kDisconnected,
                  fmt::format("stream {}: {} is closed", ticket_.stream_id,
                              board_.device().address().to_string()));
    }
    StreamFrame frame;
    frame.metadata.stream_id = ticket_.stream_id;
    if (ended_) {
      frame.metadata.end_of_stream = true;
      frame.metadata.first_sequence = expected_sequence_;
      return frame;
    }
    StreamChunk chunk;
    try {
      chunk = with_retries("read stream", read_timer_, deadline, [&](Deadline attempt) {
        // A resumable read names the first sample still needed, so a retry after a lost
        // reply gets the same samples again.
        return resumable_
                   ? board_.read_stream_from(expected_sequence_, options_.max_samples_per_frame,
                                             attempt, kOneAttempt)
                   : board_.read_stream(options_.max_samples_per_frame, attempt, kOneAttempt);
      });
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kTimeout)
        throw;
      frame.metadata.error = StreamErrorKind::kTimeout;
      frame.metadata.first_sequence = expected_sequence_;
      return frame;
    }
    bool overflowed = false;
    pending_lost_ += account(chunk, &overflowed);
    pending_overflow_ = pending_overflow_ || overflowed;
    const bool drained = stopped_ && !chunk.running && chunk.buffered == 0;
    if (chunk.sample_count == 0 && !drained) {
      if (deadline.expired()) {
        frame.metadata.error = StreamErrorKind::kTimeout;
        frame.metadata.first_sequence = expected_sequence_;
        return frame;
      }
      if (chunk.buffered == 0)
        sleep_before_polling(deadline);
      continue;
    }
    StreamMetadata& m = frame.metadata;
    m.first_sequence = chunk.first_sequence;
    m.first_tick = chunk.first_tick;
    m.sample_count = chunk.sample_count;
    m.lost_before = pending_lost_;
    m.board_overflows = chunk.overruns;
    m.end_of_stream = drained;
    if (pending_overflow_)
      m.error = StreamErrorKind::kOverflow;
    else if (pending_lost_ > 0)
      m.error = StreamErrorKind::kSequenceGap;
    else if (pending_bad_frame_)
      m.error = StreamErrorKind::kBadFrame;
    frame.cells = chunk.cells;
    frame.samples = std::move(chunk.samples);
    frame.adc = chunk.adc;
    {
      std::lock_guard lock(counters_mutex_);
      if (pending_lost_ > 0)
        ++counters_.gaps;
      if (chunk.sample_count > 0)
        ++counters_.frames;
    }
    pending_lost_ = 0;
    pending_overflow_ = false;
    pending_bad_frame_ = false;
    ended_ = drained;
    return frame;
  }
}

StreamCounters SampleStream::counters() const {
  std::lock_guard lock(counters_mutex_);
  return counters_;
}

}  // namespace kelvin::driver
