// The few collective operations a job spread over several processes (ranks, each driving its own
// board) needs, behind one interface, so that the jobs in runtime/ do not depend on MPI:
// runtime/mpi (kelvin::runtime::mpi::MpiCollective) implements it over an MPI communicator,
// thread_group.hpp over threads of one process (tests, and several boards in one program), and
// LocalCollective is the one-rank case every single-board job is.
//
// Every operation is collective: each rank of the group calls it, in the same order, with the
// same sizes where a size is fixed. Each takes a total deadline; waiting past it throws
// common::Error(kTimeout) naming this rank and the step, and poisons the collective (every later
// operation throws at once), because the other ranks may still be inside the operation and the
// group can no longer be trusted to line up. A program that catches such an error should end
// the whole job (MpiSession::abort(), mpi_session.hpp).
//
// Failures. checked() runs a piece of this rank's work (typically board calls) and then agrees
// with every rank on whether all of them succeeded: if any failed, every rank throws the same
// common::Error, of the failing rank's kind, saying which rank, which board (the rank's label)
// and what went wrong (with several failures, the lowest rank whose failure is not a timeout:
// a timeout is usually the consequence of another rank's failure, not its cause). A rank learns
// of another's failure at the next agreement, so jobs agree after every board step. So a board or kelvind that dies under one rank ends the job on
// every rank, within the deadline, instead of leaving the others waiting forever. The agreement
// itself may take kAgreementGrace beyond the deadline, so that a board call that failed at the
// deadline (a stalled board's timeout) is still reported by every rank as that rank's failure.
//
// Thread contract: a Collective is used by one thread at a time (its rank's job); different
// ranks' collectives run concurrently, which is the point. stats() may be read between
// operations by the same thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "kelvin/common/deadline.hpp"
#include "kelvin/common/error.hpp"

namespace kelvin::runtime {

// How long past a job's deadline the ranks may take to agree on a failure (agree()).
inline constexpr std::chrono::milliseconds kAgreementGrace{2000};

// What a rank spent in collective operations: their number, the bytes it contributed (sent),
// and the wall time inside them (waiting for slower ranks included, which is most of it when
// the boards' runs differ in length).
struct CommunicationStats {
  std::uint64_t operations = 0;
  std::uint64_t bytes = 0;
  double seconds = 0.0;
};

class Collective {
 public:
  virtual ~Collective() = default;
  Collective(const Collective&) = delete;
  Collective& operator=(const Collective&) = delete;

  virtual int rank() const noexcept = 0;
  virtual int size() const noexcept = 0;

  // What names this rank in errors, e.g. "board tcp:10.0.0.7:5555 (serial SIM-PBIT-0003)".
  // Jobs set it to their board; default empty (errors then name the rank only).
  void set_label(std::string label) { label_ = std::move(label); }
  const std::string& label() const noexcept { return label_; }

  // Element-wise sums and minima over the ranks, in place: every rank ends with the same values.
  // Sums of doubles are summed in rank order, so every rank gets bit-identical results.
  void sum(std::span<double> values, common::Deadline deadline, std::string_view step);
  void sum(std::span<std::int64_t> values, common::Deadline deadline, std::string_view step);
  void min(std::span<std::int64_t> values, common::Deadline deadline, std::string_view step);
  double sum(double value, common::Deadline deadline, std::string_view step);

  // Every rank's bytes, indexed by rank (sizes may differ between ranks).
  std::vector<std::vector<std::uint8_t>> gather_all(std::span<const std::uint8_t> mine,
                                                    common::Deadline deadline,
                                                    std::string_view step);
  // Every rank's values of a trivially copyable type, concatenated in rank order, and how many
  // each rank gave (counts, optional).
  template <typename T>
  std::vector<T> gather_all(std::span<const T> mine, common::Deadline deadline,
                            std::string_view step, std::vector<std::size_t>* counts = nullptr);
  // Root's bytes to every rank (the others' `data` is replaced).
  void broadcast(std::vector<std::uint8_t>& data, int root, common::Deadline deadline,
                 std::string_view step);

  // Runs work() on this rank, then agrees with every rank whether all succeeded (two small
  // collectives); see the file comment. `step` names the step in errors ("block solve:
  // preconditioner"). A rank whose work throws a non-kelvin exception reports it as kDevice.
  template <typename Work>
  void checked(std::string_view step, common::Deadline deadline, Work&& work);

  // Throws the agreed failure if any rank reports one (failure: this rank's, or null).
  void agree(std::exception_ptr failure, common::Deadline deadline, std::string_view step);

  const CommunicationStats& stats() const noexcept { return stats_; }
  // True after a collective timed out: every later operation throws (see the file comment).
  bool poisoned() const noexcept { return poisoned_; }

 protected:
  Collective() = default;

  // The transport: implementations do only this. Each must return only when every rank's
  // contribution has arrived, or throw common::Error(kTimeout) at the deadline (after which
  // the base class poisons the collective).
  enum class Reduction { kSum, kMin };
  virtual void do_reduce_double(std::span<double> values, Reduction op,
                                common::Deadline deadline) = 0;
  virtual void do_reduce_int64(std::span<std::int64_t> values, Reduction op,
                               common::Deadline deadline) = 0;
  virtual std::vector<std::vector<std::uint8_t>> do_gather_all(std::span<const std::uint8_t> mine,
                                                               common::Deadline deadline) = 0;
  virtual void do_broadcast(std::vector<std::uint8_t>& data, int root,
                            common::Deadline deadline) = 0;

 private:
  template <typename Op>
  void account(std::string_view step, std::size_t bytes, Op&& op);

  std::string label_;
  CommunicationStats stats_;
  bool poisoned_ = false;
};

// One rank alone: every operation returns its input. What a single-board job runs on.
class LocalCollective final : public Collective {
 public:
  int rank() const noexcept override { return 0; }
  int size() const noexcept override { return 1; }

 protected:
  void do_reduce_double(std::span<double>, Reduction, common::Deadline) override {}
  void do_reduce_int64(std::span<std::int64_t>, Reduction, common::Deadline) override {}
  std::vector<std::vector<std::uint8_t>> do_gather_all(std::span<const std::uint8_t> mine,
                                                       common::Deadline) override {
    return {std::vector<std::uint8_t>(mine.begin(), mine.end())};
  }
  void do_broadcast(std::vector<std::uint8_t>&, int, common::Deadline) override {}
};

template <typename T>
std::vector<T> Collective::gather_all(std::span<const T> mine, common::Deadline deadline,
                                      std::string_view step, std::vector<std::size_t>* counts) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(mine.data());
  const auto parts =
      gather_all(std::span<const std::uint8_t>(bytes, mine.size_bytes()), deadline, step);
  std::vector<T> out;
  if (counts)
    counts->clear();
  for (const auto& part : parts) {
    const std::size_t n = part.size() / sizeof(T);
    const std::size_t at = out.size();
    out.resize(at + n);
    if (n)
      std::memcpy(out.data() + at, part.data(), n * sizeof(T));
    if (counts)
      counts->push_back(n);
  }
  return out;
}

template <typename Work>
void Collective::checked(std::string_view step, common::Deadline deadline, Work&& work) {
  std::exception_ptr failure;
  try {
    work();
  } catch (...) {
    failure = std::current_exception();
  }
  agree(failure, deadline, step);
}

}  // namespace kelvin::runtime
