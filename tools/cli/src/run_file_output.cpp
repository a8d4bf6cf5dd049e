#include "run_file_output.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "build_info.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/driver/device_address.hpp"
#include "kelvin/firmware_protocol/version.hpp"

namespace kelvin::tools::cli {
namespace {

// The layout's version: raised when a reader written for an older layout would misread a file.
constexpr std::int64_t kFormatVersion = 1;

// This process's command line, arguments joined by spaces (Linux: /proc/self/cmdline, the
// arguments as the program received them); "unknown" where it cannot be read.
std::string command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!raw.empty() && raw.back() == '\0')
    raw.pop_back();
  if (raw.empty())
    return "unknown";
  std::replace(raw.begin(), raw.end(), '\0', ' ');
  return raw;
}

// Every URI parameter whose key contains "seed", as numbers where they are numbers.
Json seeds_of(const std::string& uri) {
  Json seeds = Json::object();
  try {
    for (const auto& [key, value] : driver::DeviceAddress::parse(uri).params) {
      if (key.find("seed") == std::string::npos)
        continue;
      const bool digits = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      });
      seeds[key] = digits && value.size() < 20 ? Json(std::stoull(value)) : Json(value);
    }
  } catch (const common::Error&) {
    // An address that does not parse has no seeds to record (the board opened from it anyway).
  }
  return seeds;
}

std::string utc_now() {
  return fmt::format(
      "{:%Y-%m-%dT%H:%M:%SZ}",
      fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
}

void write_dataset(run_file::RunFile& file, std::string_view name, const double* data,
                   std::size_t size, std::span<const std::uint64_t> shape) {
  file.write(fmt::format("{}/{}", kDataGroup, name), std::span<const double>(data, size), shape);
}

}  // namespace

bool is_run_file_path(std::string_view path) {
  std::string lower(path);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto ends_with = [&](std::string_view suffix) {
    return lower.size() > suffix.size() && lower.ends_with(suffix);
  };
  return ends_with(".h5") || ends_with(".hdf5");
}

void write_json_attributes(run_file::RunFile& file, std::string_view path, const Json& object) {
  for (const auto& [key, value] : object.items()) {
    if (value.is_string())
      file.set_attribute(path, key, value.get<std::string>());
    else if (value.is_boolean())
      file.set_attribute(path, key, std::int64_t{value.get<bool>() ? 1 : 0});
    else if (value.is_number_integer() && !value.is_number_unsigned())
      file.set_attribute(path, key, value.get<std::int64_t>());
    else if (value.is_number_unsigned() && value.get<std::uint64_t>() <= INT64_MAX)
      file.set_attribute(path, key, static_cast<std::int64_t>(value.get<std::uint64_t>()));
    else if (value.is_number())
      file.set_attribute(path, key, value.get<double>());
    else if (!value.is_null())
      file.set_attribute(path, key, value.dump());
  }
}

run_file::RunFile open_run_file(const std::string& path, const RunRecord& record) {
  run_file::RunFile file = run_file::RunFile::create(path);
  const Json root{
      {"format", "kelvin run file"},
      {"format_version", kFormatVersion},
      {"kelvin_version", kKelvinVersion},
      {"protocol_version", firmware_protocol::kProtocolVersion},
      {"git_revision", kGitRevision},
      {"command", record.command},
      {"command_line", command_line()},
      {"uri", record.uri},
      {"seeds", seeds_of(record.uri).dump()},
      {"calibration_id", record.calibration_id},
      {"created_utc", utc_now()},
      {"complete", 0},
  };
  write_json_attributes(file, "/", root);
  file.create_group("/board");
  if (record.description) {
    const Json description = description_json(*record.description, record.uri);
    file.set_attribute("/board", "description_json", description.dump());
    write_json_attributes(file, "/board", description);
    file.set_attribute("/", "firmware_version", record.description->firmware_version);
    file.set_attribute("/", "board_protocol_version",
                       std::int64_t{record.description->protocol_version});
  }
  file.create_group("/settings");
  write_json_attributes(file, "/settings", record.settings);
  file.create_group(kDataGroup);
  file.flush();
  return file;
}

std::optional<run_file::RunFile> open_run_file_if(const std::string& path,
                                                  const RunRecord& record) {
  if (path.empty())
    return std::nullopt;
  return open_run_file(path, record);
}

// The calibration of the run: "calibration_id" at the top (kelvin calibrate: the one it
// measured), else the one the job applied as its summary names it (at the top or nested).
std::optional<std::string> applied_calibration(const Json& summary) {
  if (summary.contains("calibration_id") && summary["calibration_id"].is_string())
    return summary["calibration_id"].get<std::string>();
  for (const Json* s : {&summary, summary.contains("summary") ? &summary["summary"] : nullptr}) {
    if (s != nullptr && s->is_object() && s->contains("calibration") &&
        (*s)["calibration"].is_string())
      return (*s)["calibration"].get<std::string>();
  }
  return std::nullopt;
}

void finish_run_file(run_file::RunFile& file, const Json& summary) {
  // The calibration is chosen when the job compiles, after the file was opened: the summary says
  // which one was applied.
  if (const auto id = applied_calibration(summary))
    file.set_attribute("/", "calibration_id", *id);
  file.set_attribute("/", "summary_json", summary.dump());
  file.set_attribute("/", "complete", std::int64_t{1});
  file.close();
}

void record_run_error(run_file::RunFile& file, std::string_view error) noexcept {
  try {
    file.set_attribute("/", "error", error);
    file.flush();
  } catch (const std::exception& e) {
    common::logger("kelvin.cli")->error("cannot record the failure in the run file: {}", e.what());
  }
}

void write_data(run_file::RunFile& file, std::string_view name, const Eigen::VectorXd& v) {
  const std::array<std::uint64_t, 1> shape{static_cast<std::uint64_t>(v.size())};
  write_dataset(file, name, v.data(), static_cast<std::size_t>(v.size()), shape);
}

void write_data(run_file::RunFile& file, std::string_view name, const Eigen::MatrixXd& m) {
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = m;
  const std::array<std::uint64_t, 2> shape{static_cast<std::uint64_t>(m.rows()),
                                           static_cast<std::uint64_t>(m.cols())};
  write_dataset(file, name, rows.data(), static_cast<std::size_t>(rows.size()), shape);
}

void write_data(run_file::RunFile& file, std::string_view name, std::span<const double> values) {
  const std::array<std::uint64_t, 1> shape{values.size()};
  write_dataset(file, name, values.data(), values.size(), shape);
}

void write_data(run_file::RunFile& file, std::string_view name,
                std::span<const std::int64_t> values, std::span<const std::uint64_t> shape) {
  file.write(fmt::format("{}/{}", kDataGroup, name), values, shape);
}

}  // namespace kelvin::tools::cli
