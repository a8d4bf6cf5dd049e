// BoltzmannTrainer checkpoints: JSON of kind "kelvin.boltzmann-machine", version 1
// (boltzmann_learning.hpp). Doubles are written in nlohmann's shortest round-trip form, so a
// loaded trainer continues bit for bit.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/pbit/boltzmann_learning.hpp"

namespace kelvin::runtime {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kKind = "kelvin.boltzmann-machine";
constexpr int kVersion = 1;

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw common::Error(common::ErrorKind::kInvalidArgument,
                      fmt::format("Boltzmann checkpoint {}: {}", path, why));
}

template <typename E>
E enum_of(const json& j, const char* key, std::initializer_list<E> values) {
  const std::string name = j.at(key).get<std::string>();
  for (const E v : values) {
    if (name == to_string(v))
      return v;
  }
  throw std::invalid_argument(fmt::format("{} = \"{}\" is not a known value", key, name));
}

json options_json(const BoltzmannOptions& o) {
  return {{"beta", o.beta},
          {"beta_schedule", o.beta_schedule},
          {"batch", o.batch},
          {"free_copies", o.free_copies},
          {"chains", o.chains},
          {"burn_in_sweeps", o.burn_in_sweeps},
          {"sweeps", o.sweeps},
          {"sample_every", o.sample_every},
          {"learning_rate", o.learning_rate},
          {"schedule", to_string(o.schedule)},
          {"decay_steps", o.decay_steps},
          {"momentum", o.momentum},
          {"weight_decay", o.weight_decay},
          {"rounding", to_string(o.rounding)},
          {"seed", o.seed},
          {"timeout_ms", o.timeout.count()}};
}

BoltzmannOptions options_of(const json& j) {
  BoltzmannOptions o;
  o.beta = j.at("beta").get<double>();
  o.beta_schedule = j.at("beta_schedule").get<std::vector<double>>();
  o.batch = j.at("batch").get<std::uint32_t>();
  o.free_copies = j.at("free_copies").get<std::uint32_t>();
  o.chains = j.at("chains").get<std::uint32_t>();
  o.burn_in_sweeps = j.at("burn_in_sweeps").get<std::uint64_t>();
  o.sweeps = j.at("sweeps").get<std::uint64_t>();
  o.sample_every = j.at("sample_every").get<std::uint32_t>();
  o.learning_rate = j.at("learning_rate").get<double>();
  o.schedule = enum_of(j, "schedule",
                       {LearningRateSchedule::kConstant, LearningRateSchedule::kInverseTime,
                        LearningRateSchedule::kCosine});
  o.decay_steps = j.at("decay_steps").get<std::uint64_t>();
  o.momentum = j.at("momentum").get<double>();
  o.weight_decay = j.at("weight_decay").get<double>();
  o.rounding = enum_of(j, "rounding", {Rounding::kNearest, Rounding::kStochastic});
  o.seed = j.at("seed").get<std::uint64_t>();
  o.timeout = std::chrono::milliseconds(j.at("timeout_ms").get<std::int64_t>());
  return o;
}

json model_json(const BoltzmannModel& m) {
  json roles = json::array(), edges = json::array();
  for (const NodeRole r : m.roles)
    roles.push_back(to_string(r));
  for (const auto& e : m.edges)
    edges.push_back({{"i", e.i}, {"j", e.j}, {"weight", e.weight}, {"trainable", e.trainable}});
  return {{"nodes", m.nodes},
          {"roles", roles},
          {"edges", edges},
          {"bias", m.bias},
          {"bias_trainable", m.bias_trainable},
          {"placement", m.placement}};
}

BoltzmannModel model_of(const json& j) {
  BoltzmannModel m;
  m.nodes = j.at("nodes").get<std::uint32_t>();
  for (const json& r : j.at("roles")) {
    const json one = {{"role", r}};
    m.roles.push_back(
        enum_of(one, "role", {NodeRole::kVisible, NodeRole::kHidden, NodeRole::kInput}));
  }
  for (const json& e : j.at("edges")) {
    m.edges.push_back({e.at("i").get<std::uint32_t>(), e.at("j").get<std::uint32_t>(),
                       e.at("weight").get<double>(), e.at("trainable").get<bool>()});
  }
  m.bias = j.at("bias").get<std::vector<double>>();
  m.bias_trainable = j.at("bias_trainable").get<std::vector<bool>>();
  m.placement = j.at("placement").get<std::vector<std::uint32_t>>();
  return m;
}

}  // namespace

void BoltzmannTrainer::save_checkpoint(const std::string& path) const {
  BoltzmannModel m = model_;
  m.placement = placement_;  // the realized placement: a load does not search again
  const driver::PbitDescription& p = board_->pbit();
  const json j = {{"kind", kKind},
                  {"version", kVersion},
                  {"model", model_json(m)},
                  {"placement_given", placement_given_},
                  {"options", options_json(options_)},
                  {"steps_done", steps_done_},
                  {"momentum", {{"weights", velocity_w_}, {"biases", velocity_b_}}},
                  {"last_codes", last_codes_},
                  {"chains_started", chains_started_},
                  {"lattice", {{"rows", p.rows}, {"cols", p.cols}, {"degree", p.degree}}}};
  const fs::path file(path);
  std::error_code ec;
  if (file.has_parent_path())
    fs::create_directories(file.parent_path(), ec);
  const fs::path tmp = fs::path(file).concat(".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump(1) << '\n';
    if (!out) {
      throw common::Error(common::ErrorKind::kInvalidArgument,
                          fmt::format("cannot write Boltzmann checkpoint {}", path));
    }
  }
  fs::rename(tmp, file, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw common::Error(common::ErrorKind::kInvalidArgument,
                        fmt::format("cannot write Boltzmann checkpoint {}", path));
  }
}

BoltzmannTrainer BoltzmannTrainer::load_checkpoint(driver::PbitBoard& board,
                                                   const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    refuse(path, "cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::exception& e) {
    refuse(path, fmt::format("is not JSON ({})", e.what()));
  }
  BoltzmannModel model;
  BoltzmannOptions options;
  std::uint64_t steps = 0;
  std::vector<double> vw, vb;
  std::vector<std::int64_t> last_codes;
  bool given = false, started = false;
  try {
    if (!j.is_object() || j.value("kind", "") != kKind)
      refuse(path, fmt::format("is not of kind \"{}\"", kKind));
    if (j.at("version").get<int>() != kVersion) {
      refuse(path, fmt::format("has version {}; this kelvin reads version {}",
                               j.at("version").dump(), kVersion));
    }
    const json& lat = j.at("lattice");
    const driver::PbitDescription& p = board.pbit();
    const auto rows = lat.at("rows").get<std::uint32_t>();
    const auto cols = lat.at("cols").get<std::uint32_t>();
    const auto degree = lat.at("degree").get<std::uint32_t>();
    if (rows != p.rows || cols != p.cols || degree != p.degree) {
      throw common::Error(
          common::ErrorKind::kNotSupported,
          fmt::format("Boltzmann checkpoint {}: trained on a {}x{} lattice of degree {}; this "
                      "board's is {}x{} of degree {}",
                      path, rows, cols, degree, p.rows, p.cols, p.degree));
    }
    model = model_of(j.at("model"));
    options = options_of(j.at("options"));
    given = j.at("placement_given").get<bool>();
    steps = j.at("steps_done").get<std::uint64_t>();
    vw = j.at("momentum").at("weights").get<std::vector<double>>();
    vb = j.at("momentum").at("biases").get<std::vector<double>>();
    last_codes = j.at("last_codes").get<std::vector<std::int64_t>>();
    started = j.at("chains_started").get<bool>();
  } catch (const json::exception& e) {
    refuse(path, fmt::format("malformed ({})", e.what()));
  } catch (const std::invalid_argument& e) {
    refuse(path, fmt::format("malformed ({})", e.what()));
  }
  if (vw.size() != model.edges.size() || vb.size() != model.nodes ||
      (!last_codes.empty() && last_codes.size() != model.edges.size() + model.nodes)) {
    refuse(path,
           fmt::format("momentum buffers of {} and {} values or {} last codes for {} edges "
                       "and {} nodes",
                       vw.size(), vb.size(), last_codes.size(), model.edges.size(), model.nodes));
  }
  BoltzmannTrainer t(board, std::move(model), std::move(options));
  t.placement_given_ = given;
  t.steps_done_ = steps;
  t.velocity_w_ = std::move(vw);
  t.velocity_b_ = std::move(vb);
  t.last_codes_ = std::move(last_codes);
  t.chains_started_ = started;
  return t;
}

}  // namespace kelvin::runtime
