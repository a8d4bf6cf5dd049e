// `kelvin sweep`'s output (sweep_output.hpp).
#include "sweep_output.hpp"

#include <fstream>
#include <stdexcept>
#include <variant>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace kelvin::tools::cli {

namespace {

using runtime::ReportField;
using runtime::ReportFields;
using runtime::sweep::SweepSummary;

std::string number(double v) {
  return fmt::format("{:.9g}", v);
}

// The CSV columns of one field: its key, or key_c<cell> per observed cell for a vector.
void add_columns(const ReportField& f, const SweepSummary& s, std::vector<std::string>& header,
                 std::vector<std::string>& row) {
  const auto scalar = [&](std::string text) {
    header.push_back(f.key);
    row.push_back(std::move(text));
  };
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::vector<double>>) {
          for (std::size_t k = 0; k < v.size(); ++k) {
            header.push_back(fmt::format("{}_c{}", f.key, s.observed[k]));
            row.push_back(number(v[k]));
          }
        } else if constexpr (std::is_same_v<T, double>) {
          scalar(number(v));
        } else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint64_t>) {
          scalar(fmt::format("{}", v));
        } else {
          scalar(runtime::report_text(f));
        }
      },
      f.value);
}

}  // namespace

Json sweep_json(const SweepSummary& summary) {
  Json out = summary_json(summary);
  out["points"] = Json::array();
  for (std::size_t k = 0; k < summary.points.size(); ++k)
    out["points"].push_back(to_json(summary.point_fields(k)));
  out["applied"] = Json::array();
  for (std::size_t k = 0; k < summary.applied.size(); ++k)
    out["applied"].push_back(to_json(summary.write_fields(k)));
  return out;
}

std::string sweep_text(const SweepSummary& s) {
  constexpr std::size_t kCellsShown = 6;
  std::string out = s.brief_report() + "\n";
  const bool pbit = s.family == "pbit";
  std::string head = "point";
  for (std::size_t a = 0; a < s.settings.size(); ++a)
    head += fmt::format("  {:>12}", fmt::format("{} {}", s.settings[a], s.units[a]));
  if (pbit)
    head += fmt::format("  {:>20}", "magnetization");
  for (std::size_t k = 0; k < s.observed.size() && k < kCellsShown; ++k)
    head += fmt::format("  {:>20}", fmt::format("mean c{}{}", s.observed[k], pbit ? "" : " V"));
  if (s.observed.size() > kCellsShown)
    head += fmt::format("  (+{} cells: --json or -o)", s.observed.size() - kCellsShown);
  out += head + "\n";
  for (const auto& p : s.points) {
    std::string line = fmt::format("{:5}", p.index);
    for (const double v : p.set_values)
      line += fmt::format("  {:>12.6g}", v);
    if (pbit)
      line += fmt::format("  {:>9.5f} +- {:<7.5f}", p.magnetization, p.magnetization_stderr);
    for (std::size_t k = 0; k < p.mean.size() && k < kCellsShown; ++k)
      line += fmt::format("  {:>9.5f} +- {:<7.5f}", p.mean[k], p.mean_stderr[k]);
    out += line + "\n";
  }
  return out;
}

void write_sweep_csv(const std::string& path, const SweepSummary& summary) {
  std::ofstream file(path);
  if (!file)
    throw std::runtime_error(fmt::format("cannot write {}", path));
  file << "# " << summary.brief_report() << "\n";
  for (std::size_t k = 0; k < summary.points.size(); ++k) {
    std::vector<std::string> header;
    std::vector<std::string> row;
    for (const ReportField& f : summary.point_fields(k))
      add_columns(f, summary, header, row);
    if (k == 0)
      file << fmt::format("{}\n", fmt::join(header, ","));
    file << fmt::format("{}\n", fmt::join(row, ","));
  }
  file.flush();
  if (!file)
    throw std::runtime_error(fmt::format("cannot write {}", path));
}

}  // namespace kelvin::tools::cli
