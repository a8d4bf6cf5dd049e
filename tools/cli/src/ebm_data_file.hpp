// The data file of `kelvin train-ebm` and the sample file of `kelvin generate`: text, one example
// per line, each a row of binary values. A line is either values separated by spaces or commas
// (0/1 or -1/+1; a file uses one encoding) or one word of 0/1 characters ("0110"); '#' starts a
// comment; blank lines are skipped. Every example has the same length. Values become +-1
// (0 -> -1, 1 -> +1), the board's spins.
//
// Also the minibatches train-ebm takes from the data: epoch e visits the examples in a
// permutation seeded by (seed, e), so that a resumed run continues the same sequence.
//
// Thread contract: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kelvin::tools::cli {

struct EbmData {
  std::vector<std::vector<int>> examples;  // +-1, all the same length
  std::string encoding;                    // "0/1" or "+-1" (as the file wrote them)
  std::size_t width() const { return examples.empty() ? 0 : examples.front().size(); }
};

// Throws std::runtime_error naming the file and line: "data.txt:7: '2' is not a binary value
// (0/1 or -1/+1)", "data.txt:3: 5 values, but line 1 has 6", "data.txt: no examples".
EbmData read_ebm_data(const std::string& path);

// The `count` example indices of minibatch `step` (examples after examples, epoch after epoch).
std::vector<std::size_t> minibatch_indices(std::size_t examples, std::uint64_t step,
                                           std::size_t count, std::uint64_t seed);

// Samples (+-1) as text, one per line, 0/1 separated by spaces: a file read_ebm_data() reads.
std::string format_samples(const std::vector<std::vector<int>>& samples);

}  // namespace kelvin::tools::cli
