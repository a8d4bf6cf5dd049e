#include "kelvin/sim_backend/firmware_bugs.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include <fmt/format.h>

#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/firmware_protocol/version.hpp"

namespace kelvin::sim_backend {
namespace {

using firmware_protocol::wire::Envelope;

constexpr std::array kAllBugs{FirmwareBug::kAnyHelloVersion, FirmwareBug::kOutOfRangeAcked,
                              FirmwareBug::kStreamLossUncounted, FirmwareBug::kTimedStartIgnored,
                              FirmwareBug::kResumeIgnored};

// How many recent plain ReadStream ids the wrapper remembers (a host has one request in flight;
// a few cover repeats and late replies).
constexpr std::size_t kRememberedReads = 8;

std::string known_bugs() {
  std::string names;
  for (const FirmwareBug bug : kAllBugs)
    names += (names.empty() ? "" : ", ") + std::string(to_string(bug));
  return names;
}

void append(std::vector<std::uint8_t>& out, const std::vector<std::uint8_t>& frame) {
  out.insert(out.end(), frame.begin(), frame.end());
}

}  // namespace

std::span<const FirmwareBug> all_firmware_bugs() noexcept {
  return kAllBugs;
}

const char* to_string(FirmwareBug bug) noexcept {
  switch (bug) {
    case FirmwareBug::kAnyHelloVersion:
      return "any_hello_version";
    case FirmwareBug::kOutOfRangeAcked:
      return "out_of_range_acked";
    case FirmwareBug::kStreamLossUncounted:
      return "stream_loss_uncounted";
    case FirmwareBug::kTimedStartIgnored:
      return "timed_start_ignored";
    case FirmwareBug::kResumeIgnored:
      return "resume_ignored";
  }
  return "unknown";
}

bool FirmwareBugSpec::has(FirmwareBug bug) const noexcept {
  return std::find(bugs.begin(), bugs.end(), bug) != bugs.end();
}

FirmwareBugSpec parse_firmware_bug_spec(std::string_view text) {
  FirmwareBugSpec spec;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t comma = std::min(text.find(',', begin), text.size());
    const std::string_view item = text.substr(begin, comma - begin);
    if (item.empty()) {
      throw std::invalid_argument(
          fmt::format("firmware_bug '{}': an empty item (known bugs: {})", text, known_bugs()));
    }
    const auto* found = std::find_if(kAllBugs.begin(), kAllBugs.end(),
                                     [&](FirmwareBug bug) { return item == to_string(bug); });
    if (found == kAllBugs.end()) {
      throw std::invalid_argument(
          fmt::format("firmware_bug '{}': unknown bug (known bugs: {})", item, known_bugs()));
    }
    if (spec.has(*found))
      throw std::invalid_argument(fmt::format("firmware_bug '{}' is named twice", item));
    spec.bugs.push_back(*found);
    begin = comma + 1;
  }
  return spec;
}

std::string to_string(const FirmwareBugSpec& spec) {
  std::string text;
  for (const FirmwareBug bug : spec.bugs)
    text += (text.empty() ? "" : ",") + std::string(to_string(bug));
  return text;
}

BuggyFirmware::BuggyFirmware(std::unique_ptr<FirmwareEndpoint> board, FirmwareBugSpec spec)
    : board_(std::move(board)), spec_(std::move(spec)) {
  if (!board_)
    throw std::invalid_argument("BuggyFirmware needs a board");
}

std::vector<std::uint8_t> BuggyFirmware::on_bytes(std::span<const std::uint8_t> bytes) {
  requests_.feed(bytes);
  std::vector<std::uint8_t> out;
  while (auto frame = requests_.next()) {
    if (frame->error) {
      Envelope refusal;
      refusal.set_protocol_version(firmware_protocol::kProtocolVersion);
      refusal.mutable_error()->set_code(firmware_protocol::wire::ERROR_CODE_MALFORMED_FRAME);
      refusal.mutable_error()->set_message(
          fmt::format("{} undecodable bytes ({})", frame->discarded_bytes,
                      firmware_protocol::to_string(*frame->error)));
      append(out, firmware_protocol::encode_envelope(refusal));
      continue;
    }
    const std::vector<std::uint8_t> request = edit_request(frame->payload);
    append(out, edit_replies(board_->on_bytes(request)));
  }
  return out;
}

std::vector<std::uint8_t> BuggyFirmware::on_idle() {
  return edit_replies(board_->on_idle());
}

std::vector<std::uint8_t> BuggyFirmware::edit_request(std::span<const std::uint8_t> payload) {
  Envelope request;
  try {
    request = firmware_protocol::parse_envelope(payload);
  } catch (const firmware_protocol::MessageError&) {
    return firmware_protocol::encode_frame(payload);  // the board refuses it as it would
  }
  bool edited = false;
  if (request.has_hello() && spec_.has(FirmwareBug::kAnyHelloVersion)) {
    request.mutable_hello()->set_min_version(firmware_protocol::kProtocolVersion);
    request.mutable_hello()->set_max_version(firmware_protocol::kProtocolVersion);
    edited = true;
  }
  if (request.has_start_stream() && spec_.has(FirmwareBug::kTimedStartIgnored)) {
    request.mutable_start_stream()->set_start_tick(0);
    edited = true;
  }
  if (request.has_read_stream() && spec_.has(FirmwareBug::kResumeIgnored)) {
    request.mutable_read_stream()->clear_from_sequence();
    edited = true;
  }
  if (request.has_read_stream() && !request.read_stream().has_from_sequence()) {
    plain_reads_.push_back(request.request_id());
    if (plain_reads_.size() > kRememberedReads)
      plain_reads_.erase(plain_reads_.begin());
  }
  return edited ? firmware_protocol::encode_envelope(request)
                : firmware_protocol::encode_frame(payload);
}

std::vector<std::uint8_t> BuggyFirmware::edit_replies(std::span<const std::uint8_t> bytes) {
  if (bytes.empty())
    return {};
  replies_.feed(bytes);
  std::vector<std::uint8_t> out;
  while (auto frame = replies_.next()) {
    if (frame->error)
      continue;  // the board sends whole frames; nothing to pass on
    Envelope reply = firmware_protocol::parse_envelope(frame->payload);
    bool edited = false;
    if (reply.has_error() && spec_.has(FirmwareBug::kOutOfRangeAcked) &&
        reply.error().code() == firmware_protocol::wire::ERROR_CODE_OUT_OF_RANGE) {
      reply.mutable_ack();
      edited = true;
    }
    const bool plain_read = std::find(plain_reads_.begin(), plain_reads_.end(),
                                      reply.request_id()) != plain_reads_.end();
    if (reply.has_stream_data() && plain_read && spec_.has(FirmwareBug::kStreamLossUncounted)) {
      auto* data = reply.mutable_stream_data();
      const std::uint64_t kept = data->sample_count() - data->sample_count() / 2;
      data->set_sample_count(kept);
      data->mutable_samples_le16()->resize(kept * data->cells() * 2);
      edited = true;
    }
    append(out, edited ? firmware_protocol::encode_envelope(reply)
                       : firmware_protocol::encode_frame(frame->payload));
  }
  return out;
}

}  // namespace kelvin::sim_backend
