#include "kelvin/sim_backend/sample_ring.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace kelvin::sim_backend {

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
  produced_ = tail_ = next_unsent_ = lost_ = evicted_ = overruns_ = 0;
  overrunning_ = false;
}

void SampleRing::push(std::span<const std::int16_t> sample, bool clipped) {
  if (sample.size() != cells_) {
    throw std::invalid_argument(
        fmt::format("sample of {} codes pushed into a ring of {} cells", sample.size(), cells_));
  }
  if (held() == capacity_) {
    // The oldest sample held (tail_) is about to be overwritten.
    if (tail_ < next_unsent_) {
      ++evicted_;  // sent once; the host has it unless that reply was lost
    } else {
      ++lost_;
      ++next_unsent_;
      if (!overrunning_) {
        overrunning_ = true;
        ++overruns_;
      }
    }
    ++tail_;
  }
  const std::size_t slot = static_cast<std::size_t>(produced_ % capacity_);
  std::copy(sample.begin(), sample.end(),
            codes_.begin() + static_cast<std::ptrdiff_t>(slot * cells_));
  clipped_[slot] = clipped ? 1 : 0;
  ++produced_;
}

SampleRing::Chunk SampleRing::copy_out(std::uint64_t first, std::uint64_t max_samples) const {
  Chunk chunk;
  chunk.first_sequence = first;
  chunk.count = std::min(max_samples, produced_ - first);
  chunk.codes.reserve(static_cast<std::size_t>(chunk.count * cells_));
  for (std::uint64_t k = 0; k < chunk.count; ++k) {
    const std::size_t slot = static_cast<std::size_t>((first + k) % capacity_);
    const auto begin = codes_.begin() + static_cast<std::ptrdiff_t>(slot * cells_);
    chunk.codes.insert(chunk.codes.end(), begin, begin + cells_);
    chunk.clipped += clipped_[slot];
  }
  return chunk;
}

SampleRing::Chunk SampleRing::pop(std::uint64_t max_samples) {
  Chunk chunk = copy_out(next_unsent_, max_samples);
  next_unsent_ += chunk.count;
  tail_ = next_unsent_;  // no retransmission: forgotten once sent
  overrunning_ = false;
  return chunk;
}

SampleRing::Chunk SampleRing::read_from(std::uint64_t from_sequence, std::uint64_t max_samples) {
  if (from_sequence > next_unsent_) {
    throw std::out_of_range(
        fmt::format("read from sequence {}, but only samples before {} have been sent",
                    from_sequence, next_unsent_));
  }
  tail_ = std::max(tail_, from_sequence);  // the acknowledgement frees what came before
  Chunk chunk = copy_out(tail_, max_samples);
  next_unsent_ = std::max(next_unsent_, tail_ + chunk.count);
  overrunning_ = false;
  return chunk;
}

std::uint64_t SampleRing::discard_unread() noexcept {
  const std::uint64_t discarded = unsent();
  evicted_ += next_unsent_ - tail_;
  if (discarded > 0) {
    lost_ += discarded;
    ++overruns_;
    overrunning_ = false;  // the next overwrite, if any, is a new episode
  }
  tail_ = next_unsent_ = produced_;
  return discarded;
}

}  // namespace kelvin::sim_backend
