#include "kelvin/runtime/thread_group.hpp"

#include <condition_variable>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "kelvin/common/deadline_wait.hpp"

namespace kelvin::runtime {

using common::Deadline;
using common::Error;
using common::ErrorKind;

namespace {

// Every operation is one exchange: each rank deposits its bytes and, once all have, takes a copy
// of everyone's. The snapshot is taken by the last rank to arrive; it cannot be replaced before
// every rank has read it, because the next exchange needs every rank to arrive first.
class Exchange {
 public:
  explicit Exchange(int size) : slots_(static_cast<std::size_t>(size)) {}

  std::vector<std::vector<std::uint8_t>> run(int rank, std::span<const std::uint8_t> mine,
                                             Deadline deadline) {
    std::unique_lock lock(mutex_);
    const std::uint64_t round = round_;
    slots_[static_cast<std::size_t>(rank)].assign(mine.begin(), mine.end());
    if (++arrived_ == static_cast<int>(slots_.size())) {
      snapshot_ = slots_;
      arrived_ = 0;
      ++round_;
      changed_.notify_all();
      return snapshot_;
    }
    if (!common::detail::wait_until(changed_, lock, deadline, [&] { return round_ != round; }))
      throw Error(ErrorKind::kTimeout, "thread group: deadline");
    return snapshot_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::vector<std::uint8_t>> slots_;
  std::vector<std::vector<std::uint8_t>> snapshot_;
  int arrived_ = 0;
  std::uint64_t round_ = 0;
};

template <typename T>
std::span<const std::uint8_t> bytes_of(std::span<T> values) {
  return {reinterpret_cast<const std::uint8_t*>(values.data()), values.size_bytes()};
}

class ThreadCollective final : public Collective {
 public:
  ThreadCollective(std::shared_ptr<Exchange> exchange, int rank, int size)
      : exchange_(std::move(exchange)), rank_(rank), size_(size) {}

  int rank() const noexcept override { return rank_; }
  int size() const noexcept override { return size_; }

 protected:
  void do_reduce_double(std::span<double> values, Reduction op, Deadline deadline) override {
    reduce(values, op, deadline);
  }
  void do_reduce_int64(std::span<std::int64_t> values, Reduction op, Deadline deadline) override {
    reduce(values, op, deadline);
  }
  std::vector<std::vector<std::uint8_t>> do_gather_all(std::span<const std::uint8_t> mine,
                                                       Deadline deadline) override {
    return exchange_->run(rank_, mine, deadline);
  }
  void do_broadcast(std::vector<std::uint8_t>& data, int root, Deadline deadline) override {
    auto all = exchange_->run(
        rank_,
        rank_ == root ? std::span<const std::uint8_t>(data) : std::span<const std::uint8_t>(),
        deadline);
    data = std::move(all[static_cast<std::size_t>(root)]);
  }

 private:
  // In rank order, so every rank computes the same bits.
  template <typename T>
  void reduce(std::span<T> values, Reduction op, Deadline deadline) {
    const auto all = exchange_->run(rank_, bytes_of(values), deadline);
    for (std::size_t i = 0; i < values.size(); ++i) {
      T acc{};
      for (std::size_t r = 0; r < all.size(); ++r) {
        if (all[r].size() != values.size_bytes()) {
          throw Error(ErrorKind::kInvalidArgument,
                      fmt::format("thread group: rank {} reduced {} bytes, rank {} {}", rank_,
                                  values.size_bytes(), r, all[r].size()));
        }
        T v;
        std::memcpy(&v, all[r].data() + i * sizeof(T), sizeof(T));
        acc = r == 0 ? v : (op == Reduction::kSum ? acc + v : std::min(acc, v));
      }
      values[i] = acc;
    }
  }

  std::shared_ptr<Exchange> exchange_;
  int rank_;
  int size_;
};

}  // namespace

std::vector<std::unique_ptr<Collective>> make_thread_group(int size) {
  if (size < 1 || size > 1024)
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("thread group of {} ranks (1..1024)", size));
  auto exchange = std::make_shared<Exchange>(size);
  std::vector<std::unique_ptr<Collective>> out;
  for (int r = 0; r < size; ++r)
    out.push_back(std::make_unique<ThreadCollective>(exchange, r, size));
  return out;
}

}  // namespace kelvin::runtime
