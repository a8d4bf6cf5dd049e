// A group of ranks that are threads of one process: the Collective (collective.hpp) for tests of
// the distributed jobs without mpirun, and for a program that drives several boards from one
// process (one thread per board). Same semantics as the MPI implementation, including
// bit-identical sums on every rank and deadlines on every wait.
//
// Thread contract: make_thread_group() returns one Collective per rank; each is used by one
// thread (its rank's), and the ranks' threads run concurrently. The group's shared state lives
// as long as any of its collectives.
#pragma once

#include <memory>
#include <vector>

#include "kelvin/runtime/collective.hpp"

namespace kelvin::runtime {

// `size` ranks (1 to 1024), indexed by rank. Throws common::Error(kInvalidArgument) otherwise.
std::vector<std::unique_ptr<Collective>> make_thread_group(int size);

}  // namespace kelvin::runtime
