#include "kelvin/sim/sample_ring.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace kelvin::sim {

SampleRing::SampleRing(std::uint32_t cells, std::uint64_t capacity_samples)
    : cells_(cells), capacity_(capacity_samples) {
  if (cells == 0 || capacity_samples == 0) {
    throw std::invalid_argument(
        fmt::format("a sample ring needs cells and capacity > 0, got {} cells, {} samples", cells,
                    capacity_samples));
  }
  codes_.assign(static_cast<std::size_t>(capacity_ * cells_), 0);
  clipped_.assign(static_cast<std::size_t>(capacity_), 0);
}

void SampleRing::reset() noexcept {
  produced_ = delivered_ = lost_ = overruns_ = 0;
  overrunning_ = false;
}

void SampleRing::push(std::span<const std::int16_t> sample, bool clipped) {
  if (sample.size() != cells_) {
    throw std::invalid_argument(
        fmt::format("sample of {} codes pushed into a ring of {} cells", sample.size(), cells_));
  }
  if (buffered() == capacity_) {
    // The oldest unread sample (sequence delivered_ + lost_) is about to be overwritten.
    ++lost_;
    if (!overrunning_) {
      overrunning_ = true;
      ++overruns_;
    }
  }
  const std::size_t slot = static_cast<std::size_t>(produced_ % capacity_);
  std::copy(sample.begin(), sample.end(),
            codes_.begin() + static_cast<std::ptrdiff_t>(slot * cells_));
  clipped_[slot] = clipped ? 1 : 0;
  ++produced_;
}

SampleRing::Chunk SampleRing::pop(std::uint64_t max_samples) {
  Chunk chunk;
  chunk.first_sequence = delivered_ + lost_;
  chunk.count = std::min(max_samples, buffered());
  chunk.codes.reserve(static_cast<std::size_t>(chunk.count * cells_));
  for (std::uint64_t k = 0; k < chunk.count; ++k) {
    const std::size_t slot = static_cast<std::size_t>((chunk.first_sequence + k) % capacity_);
    const auto begin = codes_.begin() + static_cast<std::ptrdiff_t>(slot * cells_);
    chunk.codes.insert(chunk.codes.end(), begin, begin + cells_);
    chunk.clipped += clipped_[slot];
  }
  delivered_ += chunk.count;
  overrunning_ = false;
  return chunk;
}

std::uint64_t SampleRing::discard_unread() noexcept {
  const std::uint64_t discarded = buffered();
  if (discarded > 0) {
    lost_ += discarded;
    ++overruns_;
    overrunning_ = false;  // the next overwrite, if any, is a new episode
  }
  return discarded;
}

}  // namespace kelvin::sim
