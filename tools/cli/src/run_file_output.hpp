// What every run file of the kelvin program holds, composed in this one place
// (docs/run-files.md): the root attributes (format, kelvin version, the protocol version this
// build speaks, the git revision it was built from, the command, its command line, the URI, the
// seeds in the URI, the calibration id, the UTC time it was created, and at the end the
// command's JSON summary and complete = 1), the board's description in /board, what was
// programmed or asked for in /settings, and the command's data as datasets under /data.
//
// A command writes a run file in three steps: open_run_file() before any long device work (so
// that a path it cannot create fails first), its datasets under kDataGroup (whole, or appended as
// they arrive), then finish_run_file() with the same JSON that --json prints. A file whose run
// failed or was killed has complete = 0 (and `error` when the failure was caught).
//
// Thread contract: the program is single-threaded; these functions keep no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/run_file/run_file.hpp"

namespace kelvin::tools::cli {

// Where a command's datasets go.
inline constexpr std::string_view kDataGroup = "/data";

struct RunRecord {
  std::string command;  // "stream", "solve", ... (the subcommand's name)
  std::string uri;      // the address as given; its seed parameters become "seeds"
  std::optional<driver::DeviceDescription> description;  // the board's, once it is open
  // The calibration applied to the run ("none": no calibration was applied).
  std::string calibration_id = "none";
  // What was programmed or asked for: scalars become attributes of /settings, objects and arrays
  // JSON-string attributes; code arrays go in as datasets (settings_codes()).
  Json settings = Json::object();
};

// Whether `path` names a run file (ends in .h5 or .hdf5, any case).
bool is_run_file_path(std::string_view path);

// Creates the run file (refusing an existing one: common::Error naming it) and writes the
// record: root attributes, /board, /settings. Data goes under kDataGroup afterwards.
run_file::RunFile open_run_file(const std::string& path, const RunRecord& record);

// Writes `summary` (what --json prints) as the root attribute summary_json and complete = 1,
// then closes the file (throws if the close fails). calibration_id is set to the summary's
// "calibration_id" (kelvin calibrate: the calibration it measured), else to the calibration the
// job applied as the summary names it ("calibration", at its top or in its "summary").
void finish_run_file(run_file::RunFile& file, const Json& summary);

// Records a failure: root attribute `error`, complete stays 0; never throws (logs instead).
void record_run_error(run_file::RunFile& file, std::string_view error) noexcept;

// open_run_file() when `path` is given (non-empty), else nothing.
std::optional<run_file::RunFile> open_run_file_if(const std::string& path, const RunRecord& record);

// Runs `job`; if it throws, records the failure in `file` (when open) and rethrows.
template <typename Job>
auto recording_failure(std::optional<run_file::RunFile>& file, Job&& job) {
  try {
    return job();
  } catch (const std::exception& e) {
    if (file)
      record_run_error(*file, e.what());
    throw;
  }
}

// An optional option as JSON: its value, or "default" when the job chooses it.
template <typename T>
Json optional_json(const std::optional<T>& value) {
  return value ? Json(*value) : Json("default");
}

// Each member of `object` as an attribute of `path` (numbers and strings as themselves, booleans
// as 0/1, objects and arrays as JSON text, null skipped).
void write_json_attributes(run_file::RunFile& file, std::string_view path, const Json& object);

// An Eigen vector or dense matrix (row-major in the file) as a dataset under kDataGroup.
void write_data(run_file::RunFile& file, std::string_view name, const Eigen::VectorXd& v);
void write_data(run_file::RunFile& file, std::string_view name, const Eigen::MatrixXd& m);
void write_data(run_file::RunFile& file, std::string_view name, std::span<const double> values);
// Integers of shape {n} or {rows, columns} (row-major) under kDataGroup.
void write_data(run_file::RunFile& file, std::string_view name,
                std::span<const std::int64_t> values, std::span<const std::uint64_t> shape);

}  // namespace kelvin::tools::cli
