// Deliberately broken firmware behaviours for emulated boards: a FirmwareEndpoint that wraps a
// board's firmware and gets one part of the wire protocol wrong, so that `kelvin conformance`
// (tools/conformance) can be shown to catch it. Chosen by URI, a comma list, for example
//   sim:resonator?firmware_bug=timed_start_ignored,resume_ignored
//
// Each bug breaks exactly one behaviour of docs/protocol.md and maps to one conformance case:
//   any_hello_version     Hello is answered with DeviceInfo whatever version range it asks for,
//                         instead of UNSUPPORTED_VERSION      (hello.negotiates_the_version)
//   out_of_range_acked    a request refused with OUT_OF_RANGE is acknowledged instead (the
//                         codes are not applied either)       (requests.out_of_range_is_refused)
//   stream_loss_uncounted plain ReadStream replies (without from_sequence) lose the second half
//                         of their samples, which no counter reports
//                         (stream.accounts_for_every_sample)
//   timed_start_ignored   StartStream.start_tick is ignored: the stream starts at once
//                                                              (stream.timed_start)
//   resume_ignored        ReadStream.from_sequence is ignored: every read is a plain read
//                                                              (stream.resumable_read)
// Requests are decoded and framed again on their way in (a bug that edits a request edits it
// there); a run of undecodable bytes is answered MALFORMED_FRAME by the wrapper. Without any
// bug the wrapper is not installed, and the board is unchanged.
//
// Thread contract: as FirmwareEndpoint: on_bytes(), on_idle() and next_wakeup() run on the
// hosting transport's board thread, one at a time; power_off() may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/firmware_protocol/framing.hpp"
#include "kelvin/sim_backend/firmware_endpoint.hpp"

namespace kelvin::sim_backend {

enum class FirmwareBug {
  kAnyHelloVersion,
  kOutOfRangeAcked,
  kStreamLossUncounted,
  kTimedStartIgnored,
  kResumeIgnored,
};

// Every kind, in the order above.
std::span<const FirmwareBug> all_firmware_bugs() noexcept;
// The kind's name in URIs ("any_hello_version", ...).
const char* to_string(FirmwareBug bug) noexcept;

struct FirmwareBugSpec {
  std::vector<FirmwareBug> bugs;  // distinct kinds, in the order they were named
  bool has(FirmwareBug bug) const noexcept;
  bool none() const noexcept { return bugs.empty(); }
};

// Parses "timed_start_ignored,resume_ignored". Throws std::invalid_argument naming the bad item
// (unknown kind, with the known ones; an empty item; a kind named twice).
FirmwareBugSpec parse_firmware_bug_spec(std::string_view text);
// The spec as a comma list of names, for logs.
std::string to_string(const FirmwareBugSpec& spec);

class BuggyFirmware final : public FirmwareEndpoint {
 public:
  // Wraps `board`. Throws std::invalid_argument for a null board.
  BuggyFirmware(std::unique_ptr<FirmwareEndpoint> board, FirmwareBugSpec spec);

  std::vector<std::uint8_t> on_bytes(std::span<const std::uint8_t> bytes) override;
  std::vector<std::uint8_t> on_idle() override;
  void power_off() noexcept override { board_->power_off(); }
  std::uint64_t inject_overflow() override { return board_->inject_overflow(); }
  std::optional<std::chrono::steady_clock::time_point> next_wakeup() const override {
    return board_->next_wakeup();
  }

 private:
  // The request frame (payload) with the bugs that edit requests applied.
  std::vector<std::uint8_t> edit_request(std::span<const std::uint8_t> payload);
  // The board's output frames with the bugs that edit replies applied.
  std::vector<std::uint8_t> edit_replies(std::span<const std::uint8_t> bytes);

  std::unique_ptr<FirmwareEndpoint> board_;
  FirmwareBugSpec spec_;
  firmware_protocol::FrameDecoder requests_;
  firmware_protocol::FrameDecoder replies_;
  std::vector<std::uint64_t> plain_reads_;  // ids of ReadStream requests without from_sequence
};

}  // namespace kelvin::sim_backend
