#include "lattice_copies.hpp"

#include <algorithm>

namespace kelvin::runtime::detail {

std::vector<std::int64_t> translated_copy_offsets(const std::vector<std::uint32_t>& placement,
                                                  std::uint32_t lattice_rows,
                                                  std::uint32_t lattice_cols) {
  const auto rows = static_cast<std::int64_t>(lattice_rows);
  const auto cols = static_cast<std::int64_t>(lattice_cols);
  // The placement's bounding box: how far it may move.
  std::int64_t r0 = rows, r1 = 0, c0 = cols, c1 = 0;
  for (const std::uint32_t v : placement) {
    r0 = std::min<std::int64_t>(r0, v / cols);
    r1 = std::max<std::int64_t>(r1, v / cols);
    c0 = std::min<std::int64_t>(c0, v % cols);
    c1 = std::max<std::int64_t>(c1, v % cols);
  }
  std::vector<char> taken(static_cast<std::size_t>(rows * cols), 0);
  std::vector<std::int64_t> out;
  const auto try_take = [&](std::int64_t off) {
    for (const std::uint32_t v : placement) {
      if (taken[static_cast<std::size_t>(v + off)])
        return;
    }
    for (const std::uint32_t v : placement)
      taken[static_cast<std::size_t>(v + off)] = 1;
    out.push_back(off);
  };
  try_take(0);
  for (std::int64_t dr = -r0; dr + r1 < rows; ++dr) {
    for (std::int64_t dc = -c0; dc + c1 < cols; ++dc)
      try_take(dr * cols + dc);
  }
  return out;
}

}  // namespace kelvin::runtime::detail
