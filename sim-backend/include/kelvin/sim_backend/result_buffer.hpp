// The on-board result buffer every board family shares: results of the most recent unread runs,
// a fixed number of slots, and a cumulative count of runs dropped unread.
//
// Thread contract: not thread-safe; owned and used by one board model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "kelvin/sim_backend/board_error.hpp"

namespace kelvin::sim_backend {

// Record: any type with a `ticket.run_id` member.
template <typename Record>
class ResultBuffer {
 public:
  explicit ResultBuffer(std::size_t slots) : slots_(slots) {}

  // Stores a finished run; past capacity, drops the oldest unread run, counts it and returns
  // its id.
  std::optional<std::uint64_t> push(Record record) {
    records_.push_back(std::move(record));
    if (records_.size() <= slots_)
      return std::nullopt;
    const std::uint64_t dropped = records_.front().ticket.run_id;
    records_.pop_front();
    ++overflow_count_;
    return dropped;
  }

  // The stored results of a run; BoardError(UNKNOWN_RUN) if never started (run_id 0 or at
  // least next_run_id), dropped or read.
  const Record& find(std::uint64_t run_id, std::uint64_t next_run_id) const {
    for (const Record& r : records_) {
      if (r.ticket.run_id == run_id)
        return r;
    }
    throw BoardError(BoardErrorCode::kUnknownRun,
                     run_id != 0 && run_id < next_run_id
                         ? fmt::format("run {} was already read or dropped (overflow)", run_id)
                         : fmt::format("run {} was never started", run_id));
  }

  // Removes a run's results (after they were sent). No-op for unknown ids.
  void release(std::uint64_t run_id) noexcept {
    std::erase_if(records_, [run_id](const Record& r) { return r.ticket.run_id == run_id; });
  }

  std::uint64_t overflow_count() const noexcept { return overflow_count_; }

 private:
  std::size_t slots_;
  std::deque<Record> records_;
  std::uint64_t overflow_count_ = 0;
};

}  // namespace kelvin::sim_backend
