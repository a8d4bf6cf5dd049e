// The on-board ring buffer of a streaming resonator board: a fixed number of output samples
// (all cells' int16 codes), written by the acquisition and read by the host.
//
// The ring holds the stream's samples [tail, produced). Reads come in two kinds:
//   - pop(): sends the oldest unsent samples and forgets them at once (ReadStream since protocol
//   v3);
//   - read_from(): resumable (v6 ReadStream.from_sequence): the host's from_sequence
//     acknowledges every earlier sample, and samples sent but not yet acknowledged stay in the
//     ring, so a reply lost on the link can be sent again.
// When the acquisition finds the ring full it overwrites the oldest sample held. A sample that
// was never sent is lost and counted (lost()); one sent but not acknowledged is evicted
// (evicted(), a board-side diagnostic: the host counts it only if it never got it). So
//   produced == (sent or lost) + unsent   and   sent or lost == next_unsent()
// hold exactly at all times.
//
// Thread contract: not thread-safe; the board model's thread owns it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace kelvin::sim_backend {

class SampleRing {
 public:
  struct Chunk {
    std::uint64_t first_sequence = 0;  // stream index of codes' first sample
    std::uint64_t count = 0;
    std::vector<std::int16_t> codes;  // sample-major, cells per sample
    std::uint64_t clipped = 0;        // samples here with a clipped cell
  };

  // Throws std::invalid_argument for zero cells or capacity.
  SampleRing(std::uint32_t cells, std::uint64_t capacity_samples);

  // Empties the ring and zeroes the counters (a new stream).
  void reset() noexcept;
  // Appends one sample of cells() codes; when full, first overwrites the oldest sample held
  // (counted in lost() if it was never sent, in evicted() if it was).
  void push(std::span<const std::int16_t> sample, bool clipped);
  // Sends up to max_samples of the oldest unsent samples and forgets them (no retransmission).
  Chunk pop(std::uint64_t max_samples);
  // Acknowledges every sample before from_sequence, then sends up to max_samples from there
  // (or from the oldest sample held, if from_sequence was overwritten), keeping them until a
  // later read acknowledges them. Throws std::out_of_range if from_sequence lies beyond
  // next_unsent() (the host cannot have received such samples).
  Chunk read_from(std::uint64_t from_sequence, std::uint64_t max_samples);
  // Discards every sample held as an overflow would (the unsent ones counted lost, one overrun
  // episode if any were); returns how many unsent samples were discarded.
  std::uint64_t discard_unread() noexcept;

  std::uint32_t cells() const noexcept { return cells_; }
  std::uint64_t capacity() const noexcept { return capacity_; }
  std::uint64_t produced() const noexcept { return produced_; }
  // Samples overwritten or discarded before they were ever sent.
  std::uint64_t lost() const noexcept { return lost_; }
  // Samples sent but not acknowledged when they were overwritten or discarded.
  std::uint64_t evicted() const noexcept { return evicted_; }
  // Episodes of overwriting unsent samples: a run of pushes that did, with no read in between,
  // is one.
  std::uint64_t overruns() const noexcept { return overruns_; }
  // The first sample never sent (and not lost): everything before it was sent once or lost.
  std::uint64_t next_unsent() const noexcept { return next_unsent_; }
  // Samples never sent, still in the ring.
  std::uint64_t unsent() const noexcept { return produced_ - next_unsent_; }
  // Samples held (sent-but-unacknowledged and unsent).
  std::uint64_t held() const noexcept { return produced_ - tail_; }

 private:
  Chunk copy_out(std::uint64_t first, std::uint64_t max_samples) const;

  std::uint32_t cells_;
  std::uint64_t capacity_;
  std::vector<std::int16_t> codes_;
  std::vector<std::uint8_t> clipped_;
  std::uint64_t produced_ = 0;     // stream index of the next sample pushed
  std::uint64_t tail_ = 0;         // oldest sample held
  std::uint64_t next_unsent_ = 0;  // tail_ <= next_unsent_ <= produced_
  std::uint64_t lost_ = 0;
  std::uint64_t evicted_ = 0;
  std::uint64_t overruns_ = 0;
  bool overrunning_ = false;
};

}  // namespace kelvin::sim_backend
