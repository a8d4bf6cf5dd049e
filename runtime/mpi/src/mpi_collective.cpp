#include "kelvin/runtime/mpi/mpi_collective.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "kelvin/common/logging.hpp"

namespace kelvin::runtime::mpi {

using common::Deadline;
using common::Error;
using common::ErrorKind;

namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS)
    return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw Error(ErrorKind::kDisconnected, fmt::format("MPI: {} failed: {}", what, text));
}

}  // namespace

MpiSession::MpiSession(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized)
    return;
  int provided = 0;
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  owns_ = true;
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    owns_ = false;
    throw Error(ErrorKind::kNotSupported, "MPI: this MPI library cannot give MPI_THREAD_FUNNELED");
  }
  // Errors come back as codes (then common::Error), not as the default abort.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

MpiSession::~MpiSession() {
  if (!owns_)
    return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized)
    MPI_Finalize();
}

int MpiSession::world_rank() const noexcept {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int MpiSession::world_size() const noexcept {
  int s = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

int MpiSession::local_rank() const {
  MPI_Comm host = MPI_COMM_NULL;
  check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &host),
        "MPI_Comm_split_type");
  int r = 0;
  MPI_Comm_rank(host, &r);
  MPI_Comm_free(&host);
  return r;
}

void MpiSession::abort(int code) const noexcept {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();  // MPI_Abort does not return; this keeps [[noreturn]] honest if it did
}

MpiCollective::MpiCollective(MPI_Comm comm) {
  check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

MpiCollective::~MpiCollective() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  // A poisoned communicator may have operations in flight that will never complete; freeing it
  // would wait for them, so it is left to MPI_Abort or process exit.
  if (comm_ != MPI_COMM_NULL && !finalized && !poisoned())
    MPI_Comm_free(&comm_);
}

void MpiCollective::wait(MPI_Request& request, Deadline deadline, const char* what) {
  // A few yields first (a collective between ranks that are ready takes tens of microseconds),
  // then sleeps that grow to 1 ms, so that oversubscribed ranks leave the CPU to the busy one.
  auto nap = std::chrono::microseconds(20);
  for (int polls = 0;; ++polls) {
    int done = 0;
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), what);
    if (done)
      return;
    if (deadline.expired())
      throw Error(ErrorKind::kTimeout, fmt::format("MPI: {} passed the deadline", what));
    if (polls < 64) {
      std::this_thread::yield();
      continue;
    }
    std::this_thread::sleep_for(std::min<Deadline::Clock::duration>(nap, deadline.remaining()));
    nap = std::min(nap * 2, std::chrono::microseconds(1000));
  }
}

void MpiCollective::do_reduce_double(std::span<double> values, Reduction op, Deadline deadline) {
  // Gathered, then reduced in rank order: bit-identical on every rank (file comment).
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(values.data());
  const auto all = do_gather_all({bytes, values.size_bytes()}, deadline);
  for (std::size_t i = 0; i < values.size(); ++i) {
    double acc = 0.0;
    for (std::size_t r = 0; r < all.size(); ++r) {
      if (all[r].size() != values.size_bytes()) {
        throw Error(ErrorKind::kInvalidArgument,
                    fmt::format("MPI: rank {} reduced {} values, rank {} {}", rank_, values.size(),
                                r, all[r].size() / sizeof(double)));
      }
      double v;
      std::memcpy(&v, all[r].data() + i * sizeof(double), sizeof(double));
      acc = r == 0 ? v : (op == Reduction::kSum ? acc + v : std::min(acc, v));
    }
    values[i] = acc;
  }
}

void MpiCollective::do_reduce_int64(std::span<std::int64_t> values, Reduction op,
                                    Deadline deadline) {
  static_assert(sizeof(std::int64_t) == sizeof(long long));
  MPI_Request request;
  check(MPI_Iallreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_LONG_LONG,
                       op == Reduction::kSum ? MPI_SUM : MPI_MIN, comm_, &request),
        "MPI_Iallreduce");
  wait(request, deadline, "MPI_Iallreduce");
}

std::vector<std::vector<std::uint8_t>> MpiCollective::do_gather_all(
    std::span<const std::uint8_t> mine, Deadline deadline) {
  if (mine.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw Error(ErrorKind::kInvalidArgument, "MPI: more than 2 GiB in one gather");
  int my_count = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<std::size_t>(size_));
  MPI_Request request;
  check(MPI_Iallgather(&my_count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm_, &request),
        "MPI_Iallgather");
  wait(request, deadline, "MPI_Iallgather");
  std::vector<int> displs(counts.size());
  long long total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    displs[r] = static_cast<int>(total);
    total += counts[r];
  }
  if (total > std::numeric_limits<int>::max())
    throw Error(ErrorKind::kInvalidArgument, "MPI: more than 2 GiB in one gather");
  std::vector<std::uint8_t> all(static_cast<std::size_t>(total));
  check(MPI_Iallgatherv(mine.data(), my_count, MPI_BYTE, all.data(), counts.data(), displs.data(),
                        MPI_BYTE, comm_, &request),
        "MPI_Iallgatherv");
  wait(request, deadline, "MPI_Iallgatherv");
  std::vector<std::vector<std::uint8_t>> out(counts.size());
  for (std::size_t r = 0; r < counts.size(); ++r)
    out[r].assign(all.begin() + displs[r], all.begin() + displs[r] + counts[r]);
  return out;
}

void MpiCollective::do_broadcast(std::vector<std::uint8_t>& data, int root, Deadline deadline) {
  unsigned long long n = data.size();
  MPI_Request request;
  check(MPI_Ibcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, comm_, &request), "MPI_Ibcast");
  wait(request, deadline, "MPI_Ibcast");
  if (n > static_cast<unsigned long long>(std::numeric_limits<int>::max()))
    throw Error(ErrorKind::kInvalidArgument, "MPI: more than 2 GiB in one broadcast");
  data.resize(n);
  if (n == 0)
    return;
  check(MPI_Ibcast(data.data(), static_cast<int>(n), MPI_BYTE, root, comm_, &request),
        "MPI_Ibcast");
  wait(request, deadline, "MPI_Ibcast");
}

}  // namespace kelvin::runtime::mpi
