// main() of the MPI test executable: MPI first, then GoogleTest on every rank. Ranks other than 0
// print only failures (with their rank), so a passing run reads like one process's.
#include <cstdio>

#include <gtest/gtest.h>

#include "kelvin/runtime/mpi/mpi_collective.hpp"

namespace {

class FailuresOnly : public testing::EmptyTestEventListener {
 public:
  explicit FailuresOnly(int rank) : rank_(rank) {}
  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (result.failed()) {
      std::fprintf(stderr, "[rank %d] %s:%d: failure\n%s\n", rank_,
                   result.file_name() ? result.file_name() : "?", result.line_number(),
                   result.summary());
    }
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  kelvin::runtime::mpi::MpiSession session(&argc, &argv);
  testing::InitGoogleTest(&argc, argv);
  const int rank = session.world_rank();
  if (rank != 0) {
    auto& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new FailuresOnly(rank));
  }
  const int failed = RUN_ALL_TESTS();
  // Every rank's verdict: the job fails if any rank's test failed.
  int any = failed;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any;
}
