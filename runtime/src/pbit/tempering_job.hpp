// The one algorithm behind run_parallel_tempering() and run_plain_gibbs(), on one board or on
// the boards of many ranks (parallel_tempering.hpp's file comment): the replicas dealt to the
// ranks, the checks that the ranks run the same job, the runs, the gathered energies, the swap
// and stop decisions every rank makes alike, and the results combined at the end.
//
// Thread contract: run_tempering_job() uses its board exclusively and is collective over
// `group` (every rank calls it with the same inputs). ReplicaSplit is a plain value type.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/runtime/collective.hpp"
#include "kelvin/runtime/pbit/parallel_tempering.hpp"

namespace kelvin::runtime::detail {

// R replicas (global chains 0..R-1) dealt to P ranks in contiguous ranges: rank r runs
// count(r) = R / P chains, one more for r < R mod P, starting at first(r). Needs 1 <= P <= R.
class ReplicaSplit {
 public:
  ReplicaSplit(std::uint32_t replicas, int ranks) : replicas_(replicas), ranks_(ranks) {}
  std::uint32_t first(int rank) const;
  std::uint32_t count(int rank) const;
  int owner(std::uint32_t chain) const;

 private:
  std::uint32_t replicas_;
  int ranks_;
};

// What this rank's board samples: the codes written to it (calibrated, if the job applies a
// calibration) and those whose energies the swap and stop rules use (the model's own), and the
// calibration applied ("none" or its id, and its file).
struct TemperingProgram {
  driver::LatticeProgram board;
  driver::LatticeProgram energy;
  std::string calibration = "none";
  std::string calibration_file;
};

// Runs the job. `input_fingerprint` identifies the caller's model or program (the same on every
// rank, else refused); make_program() runs on this rank inside the board-check step, after the
// options were validated.
TemperingResult run_tempering_job(Collective& group, driver::PbitBoard& board,
                                  const ParallelTemperingOptions& options, bool tempering,
                                  std::uint64_t input_fingerprint,
                                  const std::function<TemperingProgram()>& make_program);

// FNV-1a over bytes: a cheap fingerprint of the inputs, to compare between ranks.
class Fingerprint {
 public:
  template <typename T>
  Fingerprint& add(const T& value) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(&value);
    for (std::size_t k = 0; k < sizeof(T); ++k)
      hash_ = (hash_ ^ bytes[k]) * 0x100000001b3ull;
    return *this;
  }
  std::uint64_t value() const noexcept { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ull;
};

}  // namespace kelvin::runtime::detail
