#include "ratio.hpp"

#include <utility>

namespace kelvin::bench {

std::vector<RatioPair>& ratio_pairs() {
  static std::vector<RatioPair> pairs;
  return pairs;
}

bool add_ratio(std::string measured, std::string baseline, std::string what) {
  ratio_pairs().push_back({std::move(measured), std::move(baseline), std::move(what)});
  return true;
}

}  // namespace kelvin::bench
