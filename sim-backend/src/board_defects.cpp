#include "kelvin/sim_backend/board_defects.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

#include "spec_items.hpp"

namespace kelvin::sim_backend {
namespace {

std::uint32_t parse_index(std::string_view item, std::string_view value) {
  std::uint32_t index = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), index);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
    throw std::invalid_argument(
        fmt::format("defect '{}': '{}' is not a cell index (a non-negative integer)", item, value));
  }
  return index;
}

template <typename T>
void sort_unique(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

bool BoardDefects::none() const noexcept {
  return stuck.empty() && open.empty() && noisy.empty() && offset.empty() && bias_dead.empty();
}

void BoardDefects::check_indices(std::uint32_t count, std::string_view what) const {
  const auto check = [&](const char* kind, std::uint32_t index) {
    if (index >= count) {
      throw std::invalid_argument(fmt::format("defect {}:{}: the board has {} {}s (0 to {})", kind,
                                              index, count, what, count - 1));
    }
  };
  for (const std::uint32_t c : stuck)
    check("stuck", c);
  for (const auto& [i, j] : open) {
    if (j >= count) {
      throw std::invalid_argument(fmt::format("defect open:{}-{}: the board has {} {}s (0 to {})",
                                              i, j, count, what, count - 1));
    }
  }
  for (const std::uint32_t c : noisy)
    check("noisy", c);
  for (const std::uint32_t c : offset)
    check("offset", c);
  for (const std::uint32_t c : bias_dead)
    check("bias_dead", c);
}

std::vector<bool> BoardDefects::mask(const std::vector<std::uint32_t>& list, std::uint32_t count) {
  std::vector<bool> out(count, false);
  for (const std::uint32_t c : list) {
    if (c < count)
      out[c] = true;
  }
  return out;
}

BoardDefects parse_defect_spec(std::string_view text) {
  BoardDefects defects;
  const auto no_cell = [](std::string_view item) {
    return fmt::format(
        "defect '{}' has no cell: write KIND:C or open:I-J, for example stuck:3 or open:1-2", item);
  };
  for_each_spec_item(
      text, no_cell, [&](std::string_view item, std::string_view kind, std::string_view value) {
        if (kind == "open") {
          const std::size_t dash = value.find('-');
          if (dash == std::string_view::npos) {
            throw std::invalid_argument(
                fmt::format("defect '{}': open takes a pair I-J, for example open:1-2", item));
          }
          std::uint32_t i = parse_index(item, value.substr(0, dash));
          std::uint32_t j = parse_index(item, value.substr(dash + 1));
          if (i == j) {
            throw std::invalid_argument(
                fmt::format("defect '{}': a coupling joins two different cells", item));
          }
          defects.open.emplace_back(std::min(i, j), std::max(i, j));
        } else if (kind == "stuck") {
          defects.stuck.push_back(parse_index(item, value));
        } else if (kind == "noisy") {
          defects.noisy.push_back(parse_index(item, value));
        } else if (kind == "offset") {
          defects.offset.push_back(parse_index(item, value));
        } else if (kind == "bias_dead") {
          defects.bias_dead.push_back(parse_index(item, value));
        } else {
          throw std::invalid_argument(fmt::format(
              "unknown defect '{}' (known: stuck, open, noisy, offset, bias_dead)", kind));
        }
      });
  sort_unique(defects.stuck);
  sort_unique(defects.open);
  sort_unique(defects.noisy);
  sort_unique(defects.offset);
  sort_unique(defects.bias_dead);
  return defects;
}

std::string to_string(const BoardDefects& defects) {
  std::vector<std::string> items;
  const auto cells = [&](const char* kind, const std::vector<std::uint32_t>& list) {
    for (const std::uint32_t c : list)
      items.push_back(fmt::format("{}:{}", kind, c));
  };
  cells("stuck", defects.stuck);
  for (const auto& [i, j] : defects.open)
    items.push_back(fmt::format("open:{}-{}", i, j));
  cells("noisy", defects.noisy);
  cells("offset", defects.offset);
  cells("bias_dead", defects.bias_dead);
  return items.empty() ? "none" : fmt::format("{}", fmt::join(items, ","));
}

}  // namespace kelvin::sim_backend
