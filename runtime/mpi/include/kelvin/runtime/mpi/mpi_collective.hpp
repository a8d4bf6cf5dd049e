// The MPI implementation of runtime::Collective (collective.hpp): a job's ranks are the ranks of
// an MPI communicator (Debian's OpenMPI; any MPI-3 library), one board per rank.
//
// Every operation is a non-blocking MPI collective polled until it completes or the deadline
// passes (a blocking MPI call cannot be abandoned at a deadline): polled with MPI_Test, a few
// yields, then sleeps growing from 20 us to 1 ms, so that oversubscribed ranks (more ranks than
// cores, as in the tests) leave the CPU to the rank that has work. Sums of doubles are gathered and added in rank
// order on every rank, so all ranks hold bit-identical results whatever algorithm the MPI library
// picks (the Krylov loop of the distributed block solve relies on it: its ranks must take the
// same branches). Integer reductions use MPI_Iallreduce.
//
// MpiSession initializes MPI (MPI_THREAD_FUNNELED: only the thread that created the session calls
// MPI; the boards' transports have threads of their own, which never do) and finalizes it when
// destroyed, unless abort() ended the job.
//
// Thread contract: MPI calls come from the thread that made the MpiSession. An MpiCollective is
// used by one thread at a time.
#pragma once

#include <mpi.h>

#include <string>

#include "kelvin/runtime/collective.hpp"

namespace kelvin::runtime::mpi {

class MpiSession {
 public:
  // MPI_Init_thread unless MPI is already initialized (then this session does not finalize).
  // Throws common::Error(kNotSupported) when the library cannot give MPI_THREAD_FUNNELED.
  MpiSession(int* argc, char*** argv);
  ~MpiSession();  // MPI_Finalize (never throws)
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int world_rank() const noexcept;
  int world_size() const noexcept;
  // The rank among the ranks that share this host (MPI_Comm_split_type, MPI_COMM_TYPE_SHARED):
  // which of the host's boards this rank takes.
  int local_rank() const;
  // MPI_Abort on MPI_COMM_WORLD: ends every rank of the job with `code`. For a failure the
  // ranks could not agree on (a collective that timed out, collective.hpp).
  [[noreturn]] void abort(int code) const noexcept;

 private:
  bool owns_ = false;
};

class MpiCollective final : public Collective {
 public:
  // Works on a duplicate of `comm` (default MPI_COMM_WORLD), so its messages never mix with the
  // caller's. Collective over `comm`.
  explicit MpiCollective(MPI_Comm comm = MPI_COMM_WORLD);
  ~MpiCollective() override;  // frees the duplicate (never throws)

  int rank() const noexcept override { return rank_; }
  int size() const noexcept override { return size_; }

 protected:
  void do_reduce_double(std::span<double> values, Reduction op, common::Deadline deadline) override;
  void do_reduce_int64(std::span<std::int64_t> values, Reduction op,
                       common::Deadline deadline) override;
  std::vector<std::vector<std::uint8_t>> do_gather_all(std::span<const std::uint8_t> mine,
                                                       common::Deadline deadline) override;
  void do_broadcast(std::vector<std::uint8_t>& data, int root, common::Deadline deadline) override;

 private:
  void wait(MPI_Request& request, common::Deadline deadline, const char* what);

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace kelvin::runtime::mpi
