// A Summary's fields as one list. Every job's Summary (solve, inverse, log-det, natural gradient,
// block solve, parallel tempering, denoising) lists its fields once, in fields(); its full report
// is rendered from that list here, and the CLI's JSON (and, later, a Python dict) from the same
// list, so the report and the JSON cannot drift apart (tests/runtime/report_test.cpp walks every
// Summary and checks each field appears in both).
//
// A field has a stable snake_case key (the JSON key), a label for the full report, a value, the
// value's unit and a note (what the value means, printed after it). A field whose value is a
// list of fields is a group: a nested JSON object, an indented block in the report.
//
// Thread contract: plain value types and pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace kelvin::runtime {

struct ReportField;
using ReportFields = std::vector<ReportField>;

struct ReportField {
  // std::monostate: no value (JSON null, "none" in the report).
  using Value = std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double, std::string,
                             std::vector<double>, std::vector<std::int64_t>,
                             std::vector<std::uint64_t>, std::vector<std::string>, ReportFields>;

  std::string key;    // JSON key: snake_case, stable
  std::string label;  // the full report's label
  Value value;
  std::string unit;  // printed after the value ("s", "V^2/us"); part of the key's name in JSON
  std::string note;  // printed after the value in parentheses: what it means
  int digits = 6;    // significant digits of a double in the full report
};

// The value of a C++ member as a ReportField::Value: integers keep their signedness (as 64-bit),
// floating point becomes double, an empty optional becomes std::monostate.
template <typename T>
ReportField::Value report_value(const T& v) {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<U, bool>) {
    return v;
  } else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
    return static_cast<std::int64_t>(v);
  } else if constexpr (std::is_integral_v<U>) {
    return static_cast<std::uint64_t>(v);
  } else if constexpr (std::is_floating_point_v<U>) {
    return static_cast<double>(v);
  } else if constexpr (std::is_convertible_v<const U&, std::string_view>) {
    return std::string(std::string_view(v));
  } else if constexpr (std::is_same_v<U, ReportFields>) {
    return v;
  } else if constexpr (std::is_same_v<U, std::vector<double>> ||
                       std::is_same_v<U, std::vector<std::int64_t>> ||
                       std::is_same_v<U, std::vector<std::uint64_t>> ||
                       std::is_same_v<U, std::vector<std::string>>) {
    return v;
  } else if constexpr (std::is_same_v<U, std::vector<std::uint32_t>>) {
    return std::vector<std::uint64_t>(v.begin(), v.end());
  } else {
    // std::optional<X>
    if (!v)
      return std::monostate{};
    return report_value(*v);
  }
}

// One field, for readable fields() lists.
template <typename T>
ReportField field(std::string key, std::string label, const T& value, std::string unit = {},
                  std::string note = {}, int digits = 6) {
  return ReportField{std::move(key),  std::move(label), report_value(value),
                     std::move(unit), std::move(note),  digits};
}

// A group of fields (a nested JSON object, an indented block in the report).
ReportField group(std::string key, std::string label, ReportFields fields, std::string note = {});

// The full report: the title on the first line, then one line per field,
// "  label                        value unit (note)", groups indented by two more spaces.
std::string render_report(std::string_view title, const ReportFields& fields);

// A value as the full report prints it (without unit and note).
std::string report_text(const ReportField& field);

// The field with this key (groups searched depth-first); nullptr if there is none.
const ReportField* find_field(const ReportFields& fields, std::string_view key);

}  // namespace kelvin::runtime
