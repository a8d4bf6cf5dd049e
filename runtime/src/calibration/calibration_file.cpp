#include "kelvin/runtime/calibration/calibration_file.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kelvin/common/error.hpp"

namespace kelvin::runtime::calibration {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

[[noreturn]] void refuse(const std::string& origin, const std::string& why) {
  throw common::Error(common::ErrorKind::kInvalidArgument,
                      fmt::format("calibration file {}: {}", origin, why));
}

json estimate_json(const Estimate& e) {
  return {{"value", e.value}, {"standard_error", e.standard_error}};
}

Estimate estimate_of(const json& j) {
  return {j.at("value").get<double>(), j.at("standard_error").get<double>()};
}

json matrix_json(const Eigen::MatrixXd& m) {
  json rows = json::array();
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    json row = json::array();
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      row.push_back(m(i, j));
    rows.push_back(std::move(row));
  }
  return rows;
}

Eigen::MatrixXd matrix_of(const json& j, Eigen::Index n, const char* name) {
  if (!j.is_array() || static_cast<Eigen::Index>(j.size()) != n)
    throw std::invalid_argument(fmt::format("{} is not {} rows", name, n));
  Eigen::MatrixXd m(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const json& row = j.at(static_cast<std::size_t>(i));
    if (!row.is_array() || static_cast<Eigen::Index>(row.size()) != n)
      throw std::invalid_argument(fmt::format("{} row {} is not {} values", name, i, n));
    for (Eigen::Index k = 0; k < n; ++k)
      m(i, k) = row.at(static_cast<std::size_t>(k)).get<double>();
  }
  return m;
}

json conditions_json(const CalibrationConditions& c) {
  return {{"cells", c.cells},
          {"firmware_version", c.firmware_version},
          {"protocol_version", c.protocol_version},
          {"imperfections", c.imperfections},
          {"noise_code", c.noise_code},
          {"diffusion_v2_per_us", c.diffusion},
          {"sample_period_s", c.sample_period_s},
          {"kelvin_version", c.kelvin_version},
          {"mean_samples", c.mean_samples},
          {"drift_samples", c.drift_samples},
          {"beta_code", c.beta_code},
          {"bias_codes", c.bias_codes}};
}

CalibrationConditions conditions_of(const json& j) {
  CalibrationConditions c;
  c.cells = j.at("cells").get<std::uint32_t>();
  c.firmware_version = j.at("firmware_version").get<std::string>();
  c.protocol_version = j.at("protocol_version").get<std::uint32_t>();
  c.imperfections = j.at("imperfections").get<std::string>();
  c.noise_code = j.at("noise_code").get<std::uint32_t>();
  c.diffusion = j.at("diffusion_v2_per_us").get<double>();
  c.sample_period_s = j.at("sample_period_s").get<double>();
  c.kelvin_version = j.at("kelvin_version").get<std::string>();
  c.mean_samples = j.at("mean_samples").get<std::uint64_t>();
  c.drift_samples = j.at("drift_samples").get<std::uint64_t>();
  c.beta_code = j.value("beta_code", std::uint32_t{0});  // not in format version 1
  c.bias_codes = j.value("bias_codes", std::vector<int>{});
  return c;
}

void read_pbits(const json& pbits, BoardCalibration& c) {
  if (!pbits.is_array() || pbits.size() != c.conditions.cells) {
    throw std::invalid_argument(fmt::format("\"pbits\" holds {} entries, conditions.cells says {}",
                                            pbits.is_array() ? pbits.size() : 0,
                                            c.conditions.cells));
  }
  for (const json& p : pbits) {
    PbitNodeCalibration v;
    v.sigmoid_offset = estimate_of(p.at("sigmoid_offset"));
    v.sigmoid_gain = estimate_of(p.at("sigmoid_gain"));
    if (!(v.sigmoid_gain.value > 0.0))
      throw std::invalid_argument("a sigmoid gain is not positive");
    c.pbits.push_back(v);
  }
}

}  // namespace

fs::path calibration_directory() {
  if (const char* dir = std::getenv("KELVIN_CALIBRATION_DIR"); dir && *dir)
    return dir;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
    return fs::path(xdg) / "kelvin" / "calibration";
  const char* home = std::getenv("HOME");
  if (!home || !*home) {
    throw common::Error(common::ErrorKind::kInvalidArgument,
                        "no calibration directory: set KELVIN_CALIBRATION_DIR (HOME is not set)");
  }
  return fs::path(home) / ".local" / "share" / "kelvin" / "calibration";
}

fs::path calibration_path(const std::string& serial) {
  return calibration_directory() / (serial + ".json");
}

std::string to_json(const BoardCalibration& c) {
  if (c.is_pbit()) {
    json pbits = json::array();
    for (const PbitNodeCalibration& p : c.pbits) {
      pbits.push_back({{"sigmoid_offset", estimate_json(p.sigmoid_offset)},
                       {"sigmoid_gain", estimate_json(p.sigmoid_gain)}});
    }
    const json j = {{"format", "kelvin-calibration"},
                    {"format_version", c.format_version},
                    {"family", c.family},
                    {"serial", c.serial},
                    {"calibration_id", c.id},
                    {"date", c.date},
                    {"convention", BoardCalibration::kPbitConvention},
                    {"conditions", conditions_json(c.conditions)},
                    {"pbits", std::move(pbits)}};
    return j.dump(2) + "\n";
  }
  json cells = json::array();
  for (const CellCalibration& cell : c.cells) {
    cells.push_back({{"adc_offset_codes", estimate_json(cell.adc_offset_codes)},
                     {"readout_gain", estimate_json(cell.readout_gain)},
                     {"adc_gain", estimate_json(cell.adc_gain)},
                     {"capacitance", estimate_json(cell.capacitance)},
                     {"temperature", estimate_json(cell.temperature)}});
  }
  const json j = {{"format", "kelvin-calibration"},
                  {"format_version", c.format_version},
                  {"family", c.family},
                  {"serial", c.serial},
                  {"calibration_id", c.id},
                  {"date", c.date},
                  {"convention", BoardCalibration::kConvention},
                  {"conditions", conditions_json(c.conditions)},
                  {"coupling_dac_gain", estimate_json(c.coupling_dac_gain)},
                  {"cells", std::move(cells)},
                  {"drift_identification",
                   {{"programmed_per_us", matrix_json(c.drift_programmed)},
                    {"drift_per_us", matrix_json(c.drift)},
                    {"standard_error_per_us", matrix_json(c.drift_standard_error)}}}};
  return j.dump(2) + "\n";
}

BoardCalibration from_json(const std::string& text, const std::string& origin) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    refuse(origin, fmt::format("not JSON ({})", e.what()));
  }
  if (!j.is_object() || j.value("format", std::string()) != "kelvin-calibration")
    refuse(origin, "not a kelvin calibration file (no \"format\": \"kelvin-calibration\")");
  BoardCalibration c;
  try {
    c.format_version = j.at("format_version").get<int>();
    if (c.format_version > BoardCalibration::kFormatVersion || c.format_version < 1) {
      refuse(origin, fmt::format("format version {} is newer than this kelvin reads ({}); "
                                 "update kelvin or calibrate again",
                                 c.format_version, BoardCalibration::kFormatVersion));
    }
    c.family = j.value("family", std::string("resonator"));  // version 1: resonator only
    if (c.family != "resonator" && c.family != "pbit")
      throw std::invalid_argument(fmt::format("unknown board family \"{}\"", c.family));
    c.serial = j.at("serial").get<std::string>();
    c.id = j.at("calibration_id").get<std::string>();
    c.date = j.at("date").get<std::string>();
    c.conditions = conditions_of(j.at("conditions"));
    if (c.is_pbit()) {
      read_pbits(j.at("pbits"), c);
      return c;
    }
    c.coupling_dac_gain = estimate_of(j.at("coupling_dac_gain"));
    const json& cells = j.at("cells");
    if (!cells.is_array() || cells.size() != c.conditions.cells) {
      throw std::invalid_argument(
          fmt::format("\"cells\" holds {} entries, conditions.cells says {}",
                      cells.is_array() ? cells.size() : 0, c.conditions.cells));
    }
    for (const json& cell : cells) {
      CellCalibration v;
      v.adc_offset_codes = estimate_of(cell.at("adc_offset_codes"));
      v.readout_gain = estimate_of(cell.at("readout_gain"));
      v.adc_gain = estimate_of(cell.at("adc_gain"));
      v.capacitance = estimate_of(cell.at("capacitance"));
      v.temperature = estimate_of(cell.at("temperature"));
      if (!(v.readout_gain.value > 0.0))
        throw std::invalid_argument("a read-out gain is not positive");
      c.cells.push_back(v);
    }
    const json& drift = j.at("drift_identification");
    const auto n = static_cast<Eigen::Index>(c.conditions.cells);
    c.drift_programmed = matrix_of(drift.at("programmed_per_us"), n, "programmed_per_us");
    c.drift = matrix_of(drift.at("drift_per_us"), n, "drift_per_us");
    c.drift_standard_error =
        matrix_of(drift.at("standard_error_per_us"), n, "standard_error_per_us");
  } catch (const json::exception& e) {
    refuse(origin, fmt::format("malformed ({})", e.what()));
  } catch (const std::invalid_argument& e) {
    refuse(origin, fmt::format("malformed ({})", e.what()));
  }
  return c;
}

void write_calibration(const BoardCalibration& c, const fs::path& file) {
  std::error_code ec;
  if (file.has_parent_path())
    fs::create_directories(file.parent_path(), ec);
  const fs::path tmp = fs::path(file).concat(".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << to_json(c);
    if (!out) {
      throw common::Error(common::ErrorKind::kInvalidArgument,
                          fmt::format("cannot write calibration file {}", file.string()));
    }
  }
  fs::rename(tmp, file, ec);
  if (ec) {
    throw common::Error(
        common::ErrorKind::kInvalidArgument,
        fmt::format("cannot write calibration file {}: {}", file.string(), ec.message()));
  }
}

BoardCalibration read_calibration(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    refuse(file.string(), "cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return from_json(text.str(), file.string());
}

void check_board(const BoardCalibration& c, const driver::DeviceDescription& board,
                 const fs::path& file) {
  if (c.family != driver::to_string(board.family)) {
    refuse(file.string(), fmt::format("it is a {} board's calibration, and board {} is a {} "
                                      "board; not applied",
                                      c.family, board.serial, driver::to_string(board.family)));
  }
  if (c.serial != board.serial) {
    refuse(file.string(), fmt::format("it is for board {}, not for this board {}; not applied",
                                      c.serial, board.serial));
  }
  if (c.conditions.cells != board.cells) {
    refuse(file.string(), fmt::format("it is for {} cells, board {} has {}; not applied",
                                      c.conditions.cells, board.serial, board.cells));
  }
}

AppliedCalibration resolve_calibration(const CalibrationSelection& selection,
                                       const driver::DeviceDescription& board) {
  selection.validate();
  AppliedCalibration out;
  if (selection.mode == CalibrationSelection::Mode::kNone)
    return out;
  fs::path file = selection.file;
  if (selection.mode == CalibrationSelection::Mode::kAuto) {
    try {
      file = calibration_path(board.serial);
    } catch (const common::Error&) {
      return out;  // no calibration directory at all: nothing to look up
    }
    std::error_code ec;
    if (!fs::exists(file, ec))
      return out;
  }
  BoardCalibration c = read_calibration(file);
  check_board(c, board, file);
  out.calibration = std::move(c);
  out.file = std::move(file);
  return out;
}

}  // namespace kelvin::runtime::calibration
