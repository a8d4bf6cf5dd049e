// The comma lists that the emulated boards' URI specs are written in (fault=..., defect=...):
// items KIND:VALUE separated by commas, spaces around an item ignored, empty items skipped. One
// reader, so that every spec splits its text the same way.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace kelvin::sim_backend {

inline std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return s;
}

// Calls on_item(item, kind, value) for every item of `text`; an item without ':' throws
// std::invalid_argument(no_value(item)).
template <typename NoValue, typename OnItem>
void for_each_spec_item(std::string_view text, NoValue no_value, OnItem on_item) {
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = trim_spaces(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (item.empty())
      continue;
    const std::size_t colon = item.find(':');
    if (colon == std::string_view::npos)
      throw std::invalid_argument(no_value(item));
    on_item(item, item.substr(0, colon), item.substr(colon + 1));
  }
}

}  // namespace kelvin::sim_backend
