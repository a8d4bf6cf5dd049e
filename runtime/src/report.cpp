#include "kelvin/runtime/report.hpp"

#include <iterator>

#include <fmt/format.h>

namespace kelvin::runtime {
namespace {

constexpr int kLabelWidth = 28;

std::string number(double v, int digits) {
  return fmt::format("{:.{}g}", v, digits);
}

template <typename T, typename Format>
std::string joined(const std::vector<T>& values, Format format) {
  std::string out;
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (k > 0)
      out += ", ";
    out += format(values[k]);
  }
  return out.empty() ? std::string("(none)") : out;
}

void render(std::string& out, const ReportFields& fields, int indent) {
  for (const ReportField& f : fields) {
    const int width = std::max(kLabelWidth - indent, 1);
    if (const auto* children = std::get_if<ReportFields>(&f.value)) {
      fmt::format_to(std::back_inserter(out), "{:{}}  {}{}\n", "", indent, f.label,
                     f.note.empty() ? std::string() : fmt::format(" ({})", f.note));
      render(out, *children, indent + 2);
      continue;
    }
    std::string value = report_text(f);
    if (!f.unit.empty() && !std::holds_alternative<std::monostate>(f.value))
      value += " " + f.unit;
    if (!f.note.empty())
      value += " (" + f.note + ")";
    fmt::format_to(std::back_inserter(out), "{:{}}  {:<{}} {}\n", "", indent, f.label, width,
                   value);
  }
}

const ReportField* find_in(const ReportFields& fields, std::string_view key) {
  for (const ReportField& f : fields) {
    if (f.key == key)
      return &f;
    if (const auto* children = std::get_if<ReportFields>(&f.value)) {
      if (const ReportField* found = find_in(*children, key))
        return found;
    }
  }
  return nullptr;
}

}  // namespace

ReportField group(std::string key, std::string label, ReportFields fields, std::string note) {
  ReportField f;
  f.key = std::move(key);
  f.label = std::move(label);
  f.value = std::move(fields);
  f.note = std::move(note);
  return f;
}

std::string report_text(const ReportField& f) {
  const int digits = f.digits;
  return std::visit(
      [digits](const auto& v) -> std::string {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::monostate>) {
          return "none";
        } else if constexpr (std::is_same_v<V, bool>) {
          return v ? "yes" : "no";
        } else if constexpr (std::is_same_v<V, double>) {
          return number(v, digits);
        } else if constexpr (std::is_same_v<V, std::string>) {
          return v.empty() ? std::string("(none)") : v;
        } else if constexpr (std::is_same_v<V, std::vector<double>>) {
          return joined(v, [digits](double x) { return number(x, digits); });
        } else if constexpr (std::is_same_v<V, std::vector<std::string>>) {
          return joined(v, [](const std::string& s) { return s; });
        } else if constexpr (std::is_same_v<V, ReportFields>) {
          return fmt::format("{} fields", v.size());
        } else if constexpr (std::is_integral_v<V>) {
          return fmt::format("{}", v);
        } else {
          return joined(v, [](auto x) { return fmt::format("{}", x); });
        }
      },
      f.value);
}

std::string render_report(std::string_view title, const ReportFields& fields) {
  std::string out = std::string(title) + "\n";
  render(out, fields, 0);
  return out;
}

const ReportField* find_field(const ReportFields& fields, std::string_view key) {
  return find_in(fields, key);
}

}  // namespace kelvin::runtime
