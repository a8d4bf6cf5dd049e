// The parameters a URI scheme accepts, as one table per address form (scheme:target), from which
// both the parser and the help text are made (as libiio's backends and UHD's device arguments
// describe theirs). One table keeps the two from drifting apart: a parameter that is parsed is
// also documented, with the range and default that the parser really applies.
//
//   const UriParameterTable table{"sim", "resonator", "an emulated resonator board", {
//       UriParameter::unsigned_integer("cells", 1, 256, "8", "resonator cells"),
//       UriParameter::choice("couplings", {"capacitive", "signed"}, "signed", "...")}};
//   table.validate(address);                       // unknown keys, ranges, choices
//   const auto cells = table.get_uint(address, "cells");
//   std::cout << table.help();  // sim:resonator?cells=CELLS&couplings=capacitive|signed ...
//
// Everything here is a plain value (strings, integers, vectors; no callbacks, no out-parameters)
// so that a binding (Python) can expose the tables as data.
//
// Thread contract: plain value types; const member functions may run concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/driver/device_address.hpp"

namespace kelvin::driver {

enum class UriParameterKind {
  kUnsigned,  // an unsigned integer in [min, max]
  kChoice,    // one of `choices`
  kText,      // free text, taken as given
  kSpec,      // text in a syntax parsed elsewhere (fault=...); `syntax` shows it in the help
};

// Where a parameter is written. Most are query parameters (after '?'); some schemes address the
// device itself with key=value pairs in the target (usb:serial=ABC, usb:bus=1&address=2).
enum class UriParameterPlace { kQuery, kTarget };

// The default of a parameter that has none (absent means "not given", not a value).
inline constexpr std::string_view kNoDefault = "none";

struct UriParameter {
  std::string name;     // "cells"
  std::string meaning;  // one line: "resonator cells (coupled analog nodes)"
  UriParameterKind kind = UriParameterKind::kText;
  std::uint64_t min = 0;                  // kUnsigned
  std::uint64_t max = 0;                  // kUnsigned
  std::vector<std::string> choices;       // kChoice, in the order the help lists them
  std::string syntax;                     // kSpec: "drop:P,corrupt:P,..."
  std::string default_value{kNoDefault};  // as text: "8", "signed", or "none"
  UriParameterPlace place = UriParameterPlace::kQuery;

  static UriParameter unsigned_integer(std::string name, std::uint64_t min, std::uint64_t max,
                                       std::string default_value, std::string meaning);
  static UriParameter choice(std::string name, std::vector<std::string> choices,
                             std::string default_value, std::string meaning);
  static UriParameter text(std::string name, std::string default_value, std::string meaning);
  static UriParameter spec(std::string name, std::string syntax, std::string default_value,
                           std::string meaning);
  // The same parameter, written in the target instead of the query.
  UriParameter in_target() const;

  bool has_default() const { return default_value != kNoDefault; }
  // What the help shows for its values: "1..256", "capacitive|signed", "text", or the syntax.
  std::string values_text() const;
};

// One address form: a scheme and target (sim:resonator, tcp:HOST:PORT) with its parameters.
struct UriParameterTable {
  std::string scheme;   // "sim"
  std::string target;   // "resonator", or a pattern for the help: "HOST:PORT", "[serial=SERIAL]"
  std::string summary;  // one line: what the address reaches
  std::vector<UriParameter> parameters;

  // The parameter of that name, or nullopt.
  std::optional<UriParameter> find(std::string_view name) const;
  // The names of the parameters written in `place`, in table order.
  std::vector<std::string> names(UriParameterPlace place = UriParameterPlace::kQuery) const;

  // Checks every parameter of the address: a key the table does not list is refused (so that a
  // typo such as "cell=16" is not silently replaced by a default), and unsigned and choice
  // values must be in their range. When the table lists target keys, the target must be
  // key=value pairs of those keys ('&'-separated, each at most once). Spec values are left to
  // their own parser. Throws common::Error(kInvalidArgument) naming the address, the key and
  // the known keys or accepted values.
  void validate(const DeviceAddress& address) const;

  // Typed values: the address's value, or else the parameter's default. Each throws
  // Error(kInvalidArgument) as validate() for a bad value, and std::logic_error when `name` is
  // not a parameter of that kind in this table (a bug in the backend, not in the address).
  // get_uint() also throws std::logic_error when the value is absent and there is no default:
  // find_uint() is for parameters without one.
  std::uint64_t get_uint(const DeviceAddress& address, std::string_view name) const;
  std::optional<std::uint64_t> find_uint(const DeviceAddress& address, std::string_view name) const;
  std::string get_choice(const DeviceAddress& address, std::string_view name) const;
  // Text and spec parameters: the value as given, else the default, else nullopt.
  std::optional<std::string> get_text(const DeviceAddress& address, std::string_view name) const;

  // The raw text of a parameter as written (query or target), or nullopt; no default applied.
  std::optional<std::string> raw(const DeviceAddress& address, std::string_view name) const;

  // The help: the synopsis line, then (indented by four spaces) the summary and one line per
  // parameter with its values and default:
  //   sim:resonator?cells=CELLS&couplings=capacitive|signed
  //       an emulated resonator board, in this process
  //       cells      1..256 (default 8): resonator cells
  //       couplings  capacitive|signed (default signed): which couplings the board realizes
  // Lines are separated by '\n', with none at the end.
  std::string help() const;
  // "sim:resonator?cells=CELLS&couplings=capacitive|signed"
  std::string synopsis() const;
};

// The help of several tables, one after the other.
std::string uri_help(const std::vector<UriParameterTable>& tables);

}  // namespace kelvin::driver
