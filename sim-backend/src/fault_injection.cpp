#include "kelvin/sim_backend/fault_injection.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "kelvin/common/logging.hpp"
#include "kelvin/firmware_protocol/framing.hpp"
#include "spec_items.hpp"

namespace kelvin::sim_backend {
namespace {

using Duration = FaultSpec::Duration;

double parse_probability(std::string_view kind, std::string_view value) {
  double p = 0.0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), p);
  if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(p) || p < 0.0 ||
      p > 1.0) {
    throw std::invalid_argument(
        fmt::format("fault {}:{}: the value must be a probability in [0, 1]", kind, value));
  }
  return p;
}

Duration parse_duration(std::string_view kind, std::string_view value) {
  double number = 0.0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  const std::string_view unit(end, static_cast<std::size_t>(value.data() + value.size() - end));
  double seconds_per_unit = 0.0;
  if (unit == "us")
    seconds_per_unit = 1e-6;
  else if (unit == "ms")
    seconds_per_unit = 1e-3;
  else if (unit == "s")
    seconds_per_unit = 1.0;
  if (ec != std::errc() || seconds_per_unit == 0.0 || !std::isfinite(number) || number < 0.0 ||
      number * seconds_per_unit > 1e6) {
    throw std::invalid_argument(fmt::format(
        "fault {}:{}: the value must be a duration with a unit (us, ms or s), at most 1e6 s", kind,
        value));
  }
  return std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(number * seconds_per_unit));
}

std::string format_duration(Duration d) {
  return fmt::format("{}us", std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

// Length of the frame starting at `at` in a buffer of complete frames (the firmware's output).
std::size_t frame_length(std::span<const std::uint8_t> bytes, std::size_t at) {
  if (bytes.size() - at < firmware_protocol::kFrameOverheadBytes)
    return bytes.size() - at;  // not a frame of ours: pass the rest through as one piece
  const std::uint32_t payload = static_cast<std::uint32_t>(bytes[at + 4]) |
                                (static_cast<std::uint32_t>(bytes[at + 5]) << 8) |
                                (static_cast<std::uint32_t>(bytes[at + 6]) << 16) |
                                (static_cast<std::uint32_t>(bytes[at + 7]) << 24);
  const std::size_t length = firmware_protocol::kFrameOverheadBytes + payload;
  return std::min(length, bytes.size() - at);
}

}  // namespace

bool FaultSpec::none() const noexcept {
  return drop == 0.0 && corrupt == 0.0 && duplicate == 0.0 && reorder == 0.0 && overflow == 0.0 &&
         delay == Duration::zero() && stall == Duration::zero() && !disconnect_at;
}

FaultSpec parse_fault_spec(std::string_view text) {
  FaultSpec spec;
  const auto no_value = [](std::string_view item) {
    return fmt::format(
        "fault '{}' has no value: write KIND:VALUE, for example drop:1e-3 or delay:2ms", item);
  };
  for_each_spec_item(
      text, no_value, [&](std::string_view, std::string_view kind, std::string_view value) {
        if (kind == "drop") {
          spec.drop = parse_probability(kind, value);
        } else if (kind == "corrupt") {
          spec.corrupt = parse_probability(kind, value);
        } else if (kind == "duplicate") {
          spec.duplicate = parse_probability(kind, value);
        } else if (kind == "reorder") {
          spec.reorder = parse_probability(kind, value);
        } else if (kind == "overflow") {
          spec.overflow = parse_probability(kind, value);
        } else if (kind == "delay") {
          spec.delay = parse_duration(kind, value);
        } else if (kind == "stall") {
          const std::size_t at = value.find('@');
          spec.stall = parse_duration(kind, value.substr(0, at));
          if (at != std::string_view::npos)
            spec.stall_at = parse_duration(kind, value.substr(at + 1));
        } else if (kind == "disconnect") {
          spec.disconnect_at = parse_duration(kind, value);
        } else {
          throw std::invalid_argument(fmt::format(
              "unknown fault '{}' (known: drop, corrupt, duplicate, reorder, delay, stall, "
              "disconnect, overflow)",
              kind));
        }
      });
  return spec;
}

std::string to_string(const FaultSpec& spec) {
  std::vector<std::string> items;
  const auto probability = [&](const char* kind, double p) {
    if (p > 0.0)
      items.push_back(fmt::format("{}:{}", kind, p));
  };
  probability("drop", spec.drop);
  probability("corrupt", spec.corrupt);
  probability("duplicate", spec.duplicate);
  probability("reorder", spec.reorder);
  if (spec.delay > Duration::zero())
    items.push_back("delay:" + format_duration(spec.delay));
  if (spec.stall > Duration::zero())
    items.push_back(
        fmt::format("stall:{}@{}", format_duration(spec.stall), format_duration(spec.stall_at)));
  if (spec.disconnect_at)
    items.push_back("disconnect:" + format_duration(*spec.disconnect_at));
  probability("overflow", spec.overflow);
  return items.empty() ? "none" : fmt::format("{}", fmt::join(items, ","));
}

FaultyLink::FaultyLink(std::unique_ptr<FirmwareEndpoint> board, FaultSpec spec, std::uint64_t seed)
    : board_(std::move(board)),
      spec_(spec),
      powered_up_(Clock::now()),
      // A fixed salt keeps the fault sequence apart from the board's own noise stream.
      rng_(seed ^ 0x6b656c76696e2d66ULL) {
  if (!board_)
    throw std::invalid_argument("FaultyLink needs a board");
  common::logger("kelvin.sim")->info("fault injection: {}", to_string(spec_));
}

bool FaultyLink::chance(double p) {
  if (p <= 0.0)
    return false;
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p;
}

void FaultyLink::check_disconnect() {
  if (!spec_.disconnect_at || Clock::now() - powered_up_ < *spec_.disconnect_at)
    return;
  {
    std::lock_guard lock(counters_mutex_);
    counters_.disconnected = true;
  }
  board_->power_off();
  throw LinkDisconnected(fmt::format("fault injection: the link disconnected {} after power-up",
                                     format_duration(*spec_.disconnect_at)));
}

std::vector<std::uint8_t> FaultyLink::on_bytes(std::span<const std::uint8_t> bytes) {
  check_disconnect();
  if (chance(spec_.overflow)) {
    const std::uint64_t discarded = board_->inject_overflow();
    std::lock_guard lock(counters_mutex_);
    ++counters_.overflows;
    counters_.overflowed_samples += discarded;
  }
  enqueue(board_->on_bytes(bytes));
  return release_due();
}

std::vector<std::uint8_t> FaultyLink::on_idle() {
  check_disconnect();
  enqueue(board_->on_idle());
  return release_due();
}

void FaultyLink::power_off() noexcept {
  board_->power_off();
}

void FaultyLink::enqueue(std::vector<std::uint8_t> bytes) {
  const std::span<const std::uint8_t> all(bytes);
  for (std::size_t at = 0; at < all.size();) {
    const std::size_t length = frame_length(all, at);
    std::vector<std::uint8_t> frame(all.begin() + static_cast<std::ptrdiff_t>(at),
                                    all.begin() + static_cast<std::ptrdiff_t>(at + length));
    at += length;
    std::lock_guard lock(counters_mutex_);
    ++counters_.frames;
    if (chance(spec_.drop)) {
      ++counters_.dropped;
      continue;
    }
    if (chance(spec_.corrupt)) {
      ++counters_.corrupted;
      const std::size_t byte =
          std::uniform_int_distribution<std::size_t>(0, frame.size() - 1)(rng_);
      const int bit = std::uniform_int_distribution<int>(0, 7)(rng_);
      frame[byte] = static_cast<std::uint8_t>(frame[byte] ^ (1u << bit));
    }
    const int copies = chance(spec_.duplicate) ? 2 : 1;
    if (copies == 2)
      ++counters_.duplicated;
    const auto release = Clock::now() + spec_.delay;
    if (!held_for_reorder_ && chance(spec_.reorder)) {
      ++counters_.reordered;
      held_for_reorder_ = std::move(frame);
      continue;
    }
    for (int c = 0; c < copies; ++c)
      pending_.push_back({release, frame});
    if (held_for_reorder_) {
      pending_.push_back({release, std::move(*held_for_reorder_)});
      held_for_reorder_.reset();
    }
  }
}

std::vector<std::uint8_t> FaultyLink::release_due() {
  const auto now = Clock::now();
  const auto stall_begin = powered_up_ + spec_.stall_at;
  const auto stall_end = stall_begin + spec_.stall;
  if (spec_.stall > Duration::zero() && now >= stall_begin) {
    std::lock_guard lock(counters_mutex_);
    counters_.stalled = true;
    if (now < stall_end)
      return {};
  }
  std::vector<std::uint8_t> out;
  while (!pending_.empty() && pending_.front().release <= now) {
    out.insert(out.end(), pending_.front().frame.begin(), pending_.front().frame.end());
    pending_.pop_front();
  }
  return out;
}

std::optional<FaultyLink::Clock::time_point> FaultyLink::next_wakeup() const {
  std::optional<Clock::time_point> wake;
  const auto earliest = [&](Clock::time_point t) { wake = wake ? std::min(*wake, t) : t; };
  if (!pending_.empty()) {
    auto release = pending_.front().release;
    // During a stall nothing leaves before it ends.
    const auto stall_begin = powered_up_ + spec_.stall_at;
    const auto stall_end = stall_begin + spec_.stall;
    const auto now = Clock::now();
    if (spec_.stall > Duration::zero() && now >= stall_begin && now < stall_end)
      release = std::max(release, stall_end);
    earliest(release);
  }
  if (spec_.disconnect_at)
    earliest(powered_up_ + *spec_.disconnect_at);
  return wake;
}

FaultCounters FaultyLink::counters() const {
  std::lock_guard lock(counters_mutex_);
  return counters_;
}

}  // namespace kelvin::sim_backend
