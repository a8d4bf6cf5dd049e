#include "sweep_run_file.hpp"

#include <cstdint>
#include <vector>

#include "run_file_output.hpp"

namespace kelvin::tools::cli {

namespace {

// Rows of `width` values each, row-major, from one vector member of every point.
template <typename T, typename Member>
std::vector<T> rows(const runtime::sweep::SweepSummary& s, Member member) {
  std::vector<T> out;
  for (const auto& point : s.points) {
    const auto& values = point.*member;
    out.insert(out.end(), values.begin(), values.end());
  }
  return out;
}

void write_matrix(run_file::RunFile& file, std::string_view name, const std::vector<double>& v,
                  std::size_t rows_count) {
  const std::size_t cols = rows_count == 0 ? 0 : v.size() / rows_count;
  Eigen::MatrixXd m(static_cast<Eigen::Index>(rows_count), static_cast<Eigen::Index>(cols));
  for (std::size_t r = 0; r < rows_count; ++r)
    for (std::size_t c = 0; c < cols; ++c)
      m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = v[r * cols + c];
  write_data(file, name, m);
}

void write_integers(run_file::RunFile& file, std::string_view name,
                    const std::vector<std::int64_t>& v, std::vector<std::uint64_t> shape) {
  write_data(file, name, v, shape);
}

}  // namespace

void write_sweep_data(run_file::RunFile& file, const runtime::sweep::SweepSummary& s) {
  using runtime::sweep::SweepPoint;
  const std::size_t n = s.points.size();
  const std::uint64_t axes = s.settings.size();
  write_matrix(file, "set_values", rows<double>(s, &SweepPoint::set_values), n);
  write_integers(file, "set_codes", rows<std::int64_t>(s, &SweepPoint::set_codes), {n, axes});
  write_matrix(file, "mean", rows<double>(s, &SweepPoint::mean), n);
  write_matrix(file, "mean_stderr", rows<double>(s, &SweepPoint::mean_stderr), n);
  if (s.family == "resonator") {
    write_matrix(file, "variance", rows<double>(s, &SweepPoint::variance), n);
    write_matrix(file, "variance_stderr", rows<double>(s, &SweepPoint::variance_stderr), n);
  } else {
    std::vector<double> m, se;
    for (const SweepPoint& p : s.points) {
      m.push_back(p.magnetization);
      se.push_back(p.magnetization_stderr);
    }
    write_data(file, "magnetization", m);
    write_data(file, "magnetization_stderr", se);
  }
  std::vector<std::int64_t> samples;
  std::vector<double> device_time_s, wall_s;
  for (const SweepPoint& p : s.points) {
    samples.push_back(static_cast<std::int64_t>(p.samples));
    device_time_s.push_back(p.device_time_s);
    wall_s.push_back(p.wall_s);
  }
  write_integers(file, "samples", samples, {n});
  write_data(file, "device_time_s", device_time_s);
  write_data(file, "wall_s", wall_s);
  std::vector<std::int64_t> codes, point;
  std::vector<double> values;
  for (const auto& w : s.applied) {
    codes.push_back(w.code);
    values.push_back(w.value);
    point.push_back(w.point);
  }
  write_integers(file, "applied_codes", codes, {codes.size()});
  write_data(file, "applied_values", values);
  write_integers(file, "applied_point", point, {point.size()});
}

}  // namespace kelvin::tools::cli
