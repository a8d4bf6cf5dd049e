// QuarticGenerator's checks and its checkpoint JSON (kind "kelvin.quartic-generator", version 1).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/quartic_generation.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kKind = "kelvin.quartic-generator";
constexpr int kVersion = 1;

[[noreturn]] void invalid(const std::string& what) {
  throw Error(ErrorKind::kInvalidArgument, "QuarticGenerator: " + what);
}

void check_size(const char* name, std::size_t size, std::size_t expected, const char* of) {
  if (size != expected)
    invalid(fmt::format("{} has {} entries ({} expected: {})", name, size, expected, of));
}

template <typename Code>
void check_codes(const char* name, const std::vector<Code>& codes, const driver::CodeScale& scale,
                 const char* dac) {
  for (std::size_t k = 0; k < codes.size(); ++k) {
    if (!scale.contains(codes[k])) {
      invalid(fmt::format("{}[{}] = {} is outside the board's {} range [{}, {}]", name, k, codes[k],
                          dac, scale.min_code, scale.max_code));
    }
  }
}

void check_samples(const char* name, std::uint64_t samples, const driver::DeviceDescription& b) {
  const std::uint64_t limit = std::min<std::uint64_t>(b.max_samples_per_run, b.max_record_samples);
  if (samples > limit) {
    invalid(
        fmt::format("{} = {} exceeds what one recorded run of board {} takes ({}: "
                    "max_samples_per_run {}, max_record_samples {})",
                    name, samples, b.serial, limit, b.max_samples_per_run, b.max_record_samples));
  }
}

void require(const driver::DeviceDescription& b, std::uint64_t bit, const char* name,
             const char* why) {
  if (!b.has_capability(bit)) {
    throw Error(ErrorKind::kNotSupported,
                fmt::format("QuarticGenerator: board {} lacks the {} capability ({})", b.serial,
                            name, why));
  }
}

// Reading: every error names the source and the field.
class Reader {
 public:
  Reader(const json& j, std::string source) : j_(j), source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& why) const {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("quartic checkpoint {}: field \"{}\": {}", source_, field, why));
  }
  const json& at(const std::string& field) const {
    const auto it = j_.find(field);
    if (it == j_.end())
      fail(field, "missing");
    return *it;
  }
  // An integer in [lo, hi].
  std::int64_t integer(const json& v, const std::string& field, std::int64_t lo,
                       std::int64_t hi) const {
    if (v.is_number_float()) {  // 3.0 from a writer that stored floats: an integer if exact
      const double d = v.get<double>();
      if (d != std::floor(d) || d < static_cast<double>(lo) || d > static_cast<double>(hi))
        fail(field, fmt::format("{} is not an integer in [{}, {}]", v.dump(), lo, hi));
      return static_cast<std::int64_t>(d);
    }
    if (!v.is_number_integer())
      fail(field, fmt::format("{} is not an integer", v.dump()));
    if (v.is_number_unsigned() &&
        v.get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail(field, fmt::format("{} is out of range [{}, {}]", v.dump(), lo, hi));
    const auto x = v.get<std::int64_t>();
    if (x < lo || x > hi)
      fail(field, fmt::format("{} is out of range [{}, {}]", x, lo, hi));
    return x;
  }
  std::int64_t integer(const std::string& field, std::int64_t lo, std::int64_t hi) const {
    return integer(at(field), field, lo, hi);
  }
  template <typename T>
  std::vector<T> integers(const json& v, const std::string& field) const {
    if (!v.is_array())
      fail(field, "not an array");
    std::vector<T> out;
    out.reserve(v.size());
    for (std::size_t k = 0; k < v.size(); ++k) {
      out.push_back(
          static_cast<T>(integer(v[k], fmt::format("{}[{}]", field, k),
                                 std::numeric_limits<T>::min(), std::numeric_limits<T>::max())));
    }
    return out;
  }
  template <typename T>
  std::vector<T> integers(const std::string& field) const {
    return integers<T>(at(field), field);
  }
  double number(const json& v, const std::string& field) const {
    if (!v.is_number())
      fail(field, fmt::format("{} is not a number", v.dump()));
    return v.get<double>();
  }

 private:
  const json& j_;
  std::string source_;
};

QuarticGenerator from_json(const json& j, const std::string& source) {
  if (!j.is_object())
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("quartic checkpoint {}: not a JSON object", source));
  const Reader r(j, source);
  const json& kind = r.at("kind");
  if (!kind.is_string() || kind.get<std::string>() != kKind)
    r.fail("kind", fmt::format("{} (expected \"{}\")", kind.dump(), kKind));
  const std::int64_t version = r.integer("version", 0, std::numeric_limits<int>::max());
  if (version != kVersion)
    r.fail("version", fmt::format("{} (this kelvin reads version {})", version, kVersion));
  QuarticGenerator g;
  g.cells = static_cast<std::uint32_t>(r.integer("cells", 1, 1 << 16));
  const json& rows = r.at("coupling_codes");
  if (!rows.is_array() || rows.size() != g.cells)
    r.fail("coupling_codes", fmt::format("not an array of {} rows (cells)", g.cells));
  g.coupling_codes.reserve(static_cast<std::size_t>(g.cells) * g.cells);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::string name = fmt::format("coupling_codes[{}]", i);
    const auto row = r.integers<std::int16_t>(rows[i], name);
    if (row.size() != g.cells)
      r.fail(name, fmt::format("has {} entries ({} expected: cells)", row.size(), g.cells));
    g.coupling_codes.insert(g.coupling_codes.end(), row.begin(), row.end());
  }
  g.bias_codes = r.integers<std::int16_t>("bias_codes");
  g.quartic_codes = r.integers<std::uint16_t>("quartic_codes");
  g.noise_code = static_cast<std::uint32_t>(
      r.integer("noise_code", 0, std::numeric_limits<std::uint32_t>::max()));
  g.visible = r.integers<std::uint32_t>("visible");
  g.image_rows = static_cast<std::uint32_t>(r.integer("image_rows", 1, 1 << 16));
  g.image_cols = static_cast<std::uint32_t>(r.integer("image_cols", 1, 1 << 16));
  constexpr std::int64_t kMaxSamples = std::numeric_limits<std::int64_t>::max();
  g.uncoupled_samples = static_cast<std::uint64_t>(r.integer("uncoupled_samples", 1, kMaxSamples));
  g.coupled_samples = static_cast<std::uint64_t>(r.integer("coupled_samples", 1, kMaxSamples));
  if (const auto it = j.find("pixel_scale"); it != j.end()) {
    if (!it->is_object())
      r.fail("pixel_scale", "not an object {\"offset\": ..., \"scale\": ...}");
    if (const auto o = it->find("offset"); o != it->end())
      g.pixel_offset = r.number(*o, "pixel_scale.offset");
    if (const auto s = it->find("scale"); s != it->end())
      g.pixel_scale = r.number(*s, "pixel_scale.scale");
  }
  if (const auto it = j.find("notes"); it != j.end()) {
    if (!it->is_string())
      r.fail("notes", "not a string");
    g.notes = it->get<std::string>();
  }
  try {
    g.validate();
  } catch (const Error& e) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("quartic checkpoint {}: {}", source, e.what()));
  }
  return g;
}

}  // namespace

void QuarticGenerator::validate() const {
  if (cells == 0)
    invalid("cells = 0 (>= 1)");
  const std::size_t n = cells;
  check_size("coupling_codes", coupling_codes.size(), n * n, "cells x cells");
  check_size("bias_codes", bias_codes.size(), n, "cells");
  check_size("quartic_codes", quartic_codes.size(), n, "cells");
  for (std::uint32_t i = 0; i < cells; ++i) {
    for (std::uint32_t j = i + 1; j < cells; ++j) {
      if (coupling(i, j) != coupling(j, i)) {
        invalid(fmt::format("coupling_codes[{}][{}] = {} but [{}][{}] = {} (must be symmetric)", i,
                            j, coupling(i, j), j, i, coupling(j, i)));
      }
    }
  }
  if (visible.empty())
    invalid("visible is empty (>= 1 cell)");
  std::set<std::uint32_t> seen;
  for (std::size_t k = 0; k < visible.size(); ++k) {
    if (visible[k] >= cells)
      invalid(fmt::format("visible[{}] = {} (allowed 0..{}: cells - 1)", k, visible[k], n - 1));
    if (!seen.insert(visible[k]).second)
      invalid(fmt::format("visible[{}] = {} appears twice", k, visible[k]));
  }
  if (static_cast<std::size_t>(image_rows) * image_cols != visible.size()) {
    invalid(fmt::format("image_rows x image_cols = {} x {} but visible has {} cells", image_rows,
                        image_cols, visible.size()));
  }
  if (uncoupled_samples == 0)
    invalid("uncoupled_samples = 0 (>= 1)");
  if (coupled_samples == 0)
    invalid("coupled_samples = 0 (>= 1)");
  if (!std::isfinite(pixel_offset) || !std::isfinite(pixel_scale))
    invalid(fmt::format("pixel_scale = ({}, {}) (finite)", pixel_offset, pixel_scale));
}

void QuarticGenerator::validate(const driver::DeviceDescription& b) const {
  validate();
  if (b.family != driver::BoardFamily::kResonator)
    throw Error(ErrorKind::kNotSupported,
                fmt::format("QuarticGenerator: board {} is not a resonator board", b.serial));
  if (cells > b.cells)
    invalid(fmt::format("cells = {} but board {} has {}", cells, b.serial, b.cells));
  check_codes("coupling_codes", coupling_codes, b.coupling, "coupling DAC");
  if (b.resonator && b.resonator->coupling_kind == driver::CouplingKind::kCapacitive) {
    for (std::uint32_t i = 0; i < cells; ++i) {
      for (std::uint32_t j = i + 1; j < cells; ++j) {
        if (coupling(i, j) > 0) {
          invalid(
              fmt::format("coupling_codes[{}][{}] = {} > 0, and board {} has capacitive "
                          "couplings (A_ij <= 0 only)",
                          i, j, coupling(i, j), b.serial));
        }
      }
    }
  }
  check_codes("bias_codes", bias_codes, b.bias, "bias DAC");
  if (!b.noise.contains(noise_code)) {
    invalid(fmt::format("noise_code = {} is outside the board's noise range [{}, {}]", noise_code,
                        b.noise.min_code, b.noise.max_code));
  }
  const bool quartic = std::any_of(quartic_codes.begin(), quartic_codes.end(),
                                   [](std::uint16_t c) { return c != 0; });
  if (quartic) {
    require(b, driver::capability::kQuartic, "quartic", "quartic_codes are not all 0");
    if (!b.resonator)
      invalid(fmt::format("board {} does not describe its quartic DAC (protocol < 3)", b.serial));
    check_codes("quartic_codes", quartic_codes, b.resonator->quartic, "quartic DAC");
  }
  require(b, driver::capability::kStateReset, "state_reset", "each sample starts from x = 0");
  require(b, driver::capability::kSampleRecord, "sample_record",
          "the states at switch-on and at the end are recorded");
  check_samples("uncoupled_samples", uncoupled_samples, b);
  check_samples("coupled_samples", coupled_samples, b);
}

std::string quartic_checkpoint_json(const QuarticGenerator& g) {
  g.validate();
  json rows = json::array();
  for (std::uint32_t i = 0; i < g.cells; ++i) {
    const auto begin = g.coupling_codes.begin() + static_cast<std::ptrdiff_t>(i) * g.cells;
    rows.push_back(std::vector<std::int16_t>(begin, begin + g.cells));
  }
  json j = {{"kind", kKind},
            {"version", kVersion},
            {"cells", g.cells},
            {"coupling_codes", std::move(rows)},
            {"bias_codes", g.bias_codes},
            {"quartic_codes", g.quartic_codes},
            {"noise_code", g.noise_code},
            {"visible", g.visible},
            {"image_rows", g.image_rows},
            {"image_cols", g.image_cols},
            {"uncoupled_samples", g.uncoupled_samples},
            {"coupled_samples", g.coupled_samples},
            {"pixel_scale", {{"offset", g.pixel_offset}, {"scale", g.pixel_scale}}},
            {"notes", g.notes}};
  return j.dump() + "\n";
}

QuarticGenerator parse_quartic_checkpoint(const std::string& json_text, const std::string& source) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("quartic checkpoint {}: not JSON ({})", source, e.what()));
  }
  return from_json(j, source);
}

QuarticGenerator read_quartic_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("quartic checkpoint {}: cannot be read", path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_quartic_checkpoint(text.str(), path);
}

void write_quartic_checkpoint(const std::string& path, const QuarticGenerator& g) {
  const std::string text = quartic_checkpoint_json(g);
  const fs::path file(path);
  const fs::path tmp = fs::path(file).concat(".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("cannot write quartic checkpoint {}", path));
    }
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("cannot write quartic checkpoint {}: {}", path, ec.message()));
  }
}

}  // namespace kelvin::runtime
