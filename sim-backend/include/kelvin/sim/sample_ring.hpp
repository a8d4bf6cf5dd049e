// The on-board ring buffer of a streaming resonator board: a fixed number of output samples
// (all cells' int16 codes), written by the acquisition and read by the host. When the host falls
// behind, the oldest unread samples are overwritten, and every one of them is counted, so that
// produced == delivered + lost + buffered holds exactly at all times.
//
// Thread contract: not thread-safe; the board model's thread owns it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace kelvin::sim {

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
  // Appends one sample of cells() codes; overwrites (and counts) the oldest unread sample when
  // full.
  void push(std::span<const std::int16_t> sample, bool clipped);
  // Removes and returns up to max_samples of the oldest unread samples.
  Chunk pop(std::uint64_t max_samples);
  // Discards every unread sample as an overflow would (counted as lost, one overrun episode if
  // any were discarded); returns how many.
  std::uint64_t discard_unread() noexcept;

  std::uint32_t cells() const noexcept { return cells_; }
  std::uint64_t capacity() const noexcept { return capacity_; }
  std::uint64_t produced() const noexcept { return produced_; }
  std::uint64_t delivered() const noexcept { return delivered_; }
  std::uint64_t lost() const noexcept { return lost_; }
  // Episodes of overwriting: a run of pushes that overwrote, with no read in between, is one.
  std::uint64_t overruns() const noexcept { return overruns_; }
  std::uint64_t buffered() const noexcept { return produced_ - delivered_ - lost_; }

 private:
  std::uint32_t cells_;
  std::uint64_t capacity_;
  std::vector<std::int16_t> codes_;
  std::vector<std::uint8_t> clipped_;
  std::uint64_t produced_ = 0;   // stream index of the next sample pushed
  std::uint64_t delivered_ = 0;  // samples popped
  std::uint64_t lost_ = 0;       // samples overwritten unread
  std::uint64_t overruns_ = 0;
  bool overrunning_ = false;
};

}  // namespace kelvin::sim
