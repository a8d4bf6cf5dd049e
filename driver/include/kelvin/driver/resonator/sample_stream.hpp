// Continuous streaming from a resonator board, with every lost sample counted.
//
// The board acquires into its ring buffer at its own clock (StartStream); a SampleStream pulls
// the ring (ReadStream) and hands out frames of samples with their metadata: stream sequence
// number and device tick of the first sample, the board's overflow counter, and the samples
// lost just before the frame. Loss has two causes and both are counted:
//   - overflow: the host fell behind and the board's ring overwrote unread samples (the board
//     counts them);
//   - transit: a reply carrying samples never arrived intact (dropped, damaged or overtaken on
//     the link) and the board could not send them again; the next reply's sequence number
//     jumps and the host counts the gap.
// At every report from the board, produced == received + lost + buffered holds exactly
// (StreamCounters), so a stream that ends (stop() and drain) accounts for every sample it made.
//
// Recovery: a reply not in within the reply wait is presumed lost and the read is sent again,
// with a doubled wait after each consecutive timeout (one lost reply never stalls or breaks the
// stream, and a slow board is not buried in retries); a damaged reply is discarded and counted.
// On a board with capability::kResumableRead (since protocol v6) every read names the first
// sequence the host still needs, and the board keeps what it sent until a later read acknowledges
// it, so the retry gets the same samples again and a lost reply loses nothing; transit loss is then
// left only for a retry that came after the ring overwrote them. Opt-in (min_reply_timeout > 0):
// resumable reads wait as long as the measured round trips say (ReplyTimer: smoothed round trip
// + 4 deviations, within [min_reply_timeout, reply_timeout]), so on a lossy link a lost reply
// costs milliseconds, not the worst case; plain reads always wait reply_timeout.
// Deadlines are total: recv() returns by its deadline whatever happens inside.
//
// Thread contract: recv(), stop() and the destructor belong to one thread (the stream's
// reader). counters() may be called from any thread. A disconnect (the device closed from any
// thread, or the link vanishing) makes a blocked recv() throw Error(kDisconnected) within a
// poll interval, and every later call too. The destructor stops the board's acquisition on a
// best-effort basis and never throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "kelvin/common/deadline.hpp"
#include "kelvin/driver/code_scale.hpp"
#include "kelvin/driver/reply_timer.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"

namespace kelvin::driver {

// What happened just before a frame (or instead of one), most serious first when several did.
enum class StreamErrorKind {
  kNone,         // the samples follow the previous frame's without a gap
  kOverflow,     // the board's ring overwrote unread samples before these (counted)
  kSequenceGap,  // samples were lost on the link before these (counted)
  kBadFrame,     // a damaged reply was discarded (no samples lost, or they show as a gap)
  kTimeout,      // no samples before the deadline; the stream is still usable
};

const char* to_string(StreamErrorKind kind) noexcept;

struct StreamOptions {
  // What the board acquires (dynamics, decimation, averaging, reset). Default: overdamped, every
  // ADC sample, warm start.
  StreamRequest request;
  // Largest frame in samples; 0 (default) lets the board fill one wire frame.
  std::uint32_t max_samples_per_frame = 0;
  // The longest wait for a reply before it is presumed lost and the request is sent again
  // (each consecutive timeout doubles the wait, up to 16x this). Starts, stops and plain reads
  // always wait this long; resumable reads wait as the measured round trips say, at most this.
  // Default 250 ms: far above a healthy round trip (about 0.1 ms in process, 2 ms over USB) and
  // above the emulator's 100 ms catch-up budget when it falls behind real time. A reply that
  // comes later than its wait is discarded as stale; with resumable reads its samples come
  // again with the retry, else they are counted lost.
  std::chrono::milliseconds reply_timeout{250};
  // Adaptive waits for resumable reads (opt-in): when positive (and <= reply_timeout), the
  // shortest wait the measured round trips may give; the wait is then smoothed round trip + 4
  // deviations within [this, reply_timeout]. Default 0: resumable reads wait reply_timeout too.
  // Why opt-in: adaptive waits win on a lossy link (a fixed wait stalls the reader for the whole
  // wait on every lost reply, and a second loss while it catches up overflows the ring) and lose
  // on an overloaded host (a needless retry only queues behind the slow first request and its
  // reply is dropped as stale, so each adds a round trip and a doubled wait while the ring
  // fills). Measurements: docs/streaming.md, "Recovery and deadlines", "Why opt-in, measured".
  // Links here (USB, TCP) seldom lose frames and busy hosts are common, hence the default; a
  // lossy link (or a board whose firmware answers in bounded time) is where to set it: 50 ms
  // suits the emulator (its reads after a pause can take its 100 ms catch-up budget), 10 ms a
  // board whose reads take 2 ms over USB.
  std::chrono::milliseconds min_reply_timeout{0};
  // How long to wait before asking again when the ring was empty. Default 1 ms (1,000 samples
  // at the emulated board's 1 MHz).
  std::chrono::microseconds poll_interval{1000};
  // Resume reads after a lost reply (ask for the same samples again) when the board has
  // capability::kResumableRead. Default true; false gives the reads of protocol v3 and later, where
  // the board forgets samples once sent and a lost reply's samples are counted as transit loss.
  bool resume_reads = true;

  // Throws Error(kInvalidArgument) naming the bad field.
  void validate() const;
};

struct StreamMetadata {
  std::uint64_t stream_id = 0;
  std::uint64_t first_sequence = 0;  // stream index of the first sample here (from 0)
  std::uint64_t first_tick = 0;      // device tick of that sample
  std::uint64_t sample_count = 0;
  std::uint64_t lost_before = 0;      // samples lost between the previous frame and this one
  std::uint64_t board_overflows = 0;  // the board's ring overrun episodes (cumulative)
  StreamErrorKind error = StreamErrorKind::kNone;
  // The stream was stopped and every sample it produced has been delivered or counted lost.
  bool end_of_stream = false;
};

struct StreamFrame {
  StreamMetadata metadata;
  std::uint32_t cells = 0;
  std::vector<std::int16_t> samples;  // sample-major ADC codes (convert with adc)
  CodeScale adc;
};

// Cumulative since the stream started. At every board report:
//   produced == received + lost + buffered   (exactly)
struct StreamCounters {
  std::uint64_t received = 0;       // samples handed to the caller
  std::uint64_t lost = 0;           // overflow_lost + transit_lost
  std::uint64_t overflow_lost = 0;  // overwritten in the board's ring (the board's count)
  std::uint64_t transit_lost = 0;   // in replies that never arrived intact
  std::uint64_t gaps = 0;           // frames preceded by a loss of either kind
  std::uint64_t overflows = 0;      // the board's overrun episodes
  std::uint64_t bad_frames = 0;     // damaged replies discarded
  std::uint64_t retries = 0;        // requests sent again after their reply timed out
  std::uint64_t frames = 0;         // frames with samples handed to the caller
  std::uint64_t produced = 0;       // the board's count at its latest report
  std::uint64_t buffered = 0;       // in the board's ring at its latest report
  double clock_slip_us = 0.0;       // emulated boards: device time behind the wall clock
  double round_trip_us = 0.0;       // smoothed round trip of the reads (0 before the first)
  double reply_wait_us = 0.0;       // how long the next read waits for its reply
};

class SampleStream {
 public:
  // Starts acquisition within `deadline` (retrying lost replies). A stream already running on
  // the board (an earlier start whose reply was lost, or a previous program's) is stopped first.
  // Throws Error(kNotSupported) for a board that cannot stream, Error(kInvalidArgument) for bad
  // options, Error(kTimeout), Error(kDisconnected), Error(kDevice).
  SampleStream(ResonatorBoard board, const StreamOptions& options, common::Deadline deadline);
  ~SampleStream();
  SampleStream(const SampleStream&) = delete;
  SampleStream& operator=(const SampleStream&) = delete;

  // The next frame of samples. Returns by the deadline: a frame with samples, a frame with
  // error kTimeout and none, or, after stop(), end_of_stream once the ring is drained. Throws
  // Error(kDisconnected) when the device is gone, Error(kProtocol) if the board's counters
  // contradict each other, Error(kDevice) if the board refuses.
  StreamFrame recv(common::Deadline deadline);
  // Ends acquisition (retrying lost replies); later recv() calls drain what the board holds.
  // Idempotent. Throws Error(kTimeout), Error(kDisconnected).
  void stop(common::Deadline deadline);

  StreamCounters counters() const;
  const StreamTicket& ticket() const noexcept { return ticket_; }
  ResonatorBoard& board() noexcept { return board_; }
  bool stopped() const noexcept { return stopped_; }
  // True when reads are resumable (Options::resume_reads and a board that can).
  bool resumable() const noexcept { return resumable_; }

 private:
  // One request with retries on lost and damaged replies, each attempt bounded by the timer's
  // wait (which learns from it) and all of them by `deadline`.
  template <typename Call>
  auto with_retries(const char* what, ReplyTimer& timer, common::Deadline deadline, Call call);
  // Starts and stops wait the full reply_timeout: a needless retry of either is not free.
  template <typename Call>
  auto with_fixed_retries(const char* what, common::Deadline deadline, Call call);
  void start(common::Deadline deadline);
  // Accounts one board report; returns the samples lost just before it.
  std::uint64_t account(const StreamChunk& chunk, bool* overflowed);
  void sleep_before_polling(common::Deadline deadline);

  ResonatorBoard board_;
  StreamOptions options_;
  StreamTicket ticket_;
  bool stopped_ = false;
  bool ended_ = false;
  bool resumable_ = false;
  ReplyTimer read_timer_;  // adaptive for resumable reads, fixed for plain ones
  std::uint64_t expected_sequence_ = 0;
  std::uint64_t board_lost_seen_ = 0;
  // Loss and damage seen since the last frame handed out (reported with the next one).
  std::uint64_t pending_lost_ = 0;
  bool pending_overflow_ = false;
  bool pending_bad_frame_ = false;
  mutable std::mutex counters_mutex_;
  StreamCounters counters_;
};

}  // namespace kelvin::driver
