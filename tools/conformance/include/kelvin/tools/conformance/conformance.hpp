// The wire-protocol conformance suite: one list of cases that checks a board's firmware against
// docs/protocol.md (hello and version negotiation, every request and its errors, limits, stream
// accounting, timed starts, resumable reads, behaviour after a timeout and a disconnect). CTest
// runs every case on every transport (tests/conformance), and `kelvin conformance --uri URI`
// runs the same cases against any board, so that someone bringing up new firmware sees which
// behaviour it gets wrong. A failed case says what was expected, what was received and the
// frame that showed it (its decoded envelope and the first bytes of the frame).
//
// Cases open their own sessions and leave the board as they found it (streams stopped, run
// results read), so each case is independent of the ones before it.
//
// Thread contract: cases() is safe from any thread; run_case() and run_suite() block the calling
// thread (one case at a time); the values are plain.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "kelvin/driver/device.hpp"

namespace kelvin::tools::conformance {

// Where the cases run.
struct Target {
  // The board under test. Required (validate()).
  std::string uri;
  // The same board behind a link that vanishes a fraction of a second after it opens (for the
  // emulated boards, `fault=disconnect:300ms`). Default empty: the disconnect case is skipped.
  std::string disconnecting_uri;
  // A board that gives the same ADC codes as `uri`, bit for bit, for the same job (CTest: the
  // in-process emulator behind a board server). Default empty: that case is skipped.
  std::string reference_uri;
  // How sessions are opened. Default: driver::OpenOptions's defaults.
  driver::OpenOptions open;
  // Only the cases whose id starts with one of these (for example "stream."). Default empty: all.
  std::vector<std::string> only;

  // Throws std::invalid_argument naming the field.
  void validate() const;
};

enum class Outcome { kPassed, kFailed, kSkipped };
const char* to_string(Outcome outcome) noexcept;

struct CaseResult {
  std::string id;     // "stream.timed_start"
  std::string group;  // "stream"
  std::string title;  // one line: the behaviour the case checks
  Outcome outcome = Outcome::kPassed;
  // kFailed: what was expected, then lines "sent ..." and "received ..." with the frames that
  // showed it; kSkipped: why.
  std::string message;
  std::chrono::duration<double> time{0};
};

// The context a case runs in: the target and a way to open sessions.
class CaseContext {
 public:
  explicit CaseContext(const Target& target) : target_(target) {}
  const Target& target() const noexcept { return target_; }
  // A new session (hello) with target().uri. Throws common::Error.
  std::unique_ptr<driver::Device> open() const;
  std::unique_ptr<driver::Device> open(const std::string& uri) const;

 private:
  const Target& target_;
};

struct Case {
  std::string id;
  std::string title;
  // Returns normally when the board behaves; throws CaseFailure or CaseSkipped otherwise (any
  // other exception fails the case with its message).
  std::function<void(const CaseContext&)> run;
};

// Every case, in the order they run.
const std::vector<Case>& cases();
// Runs one case; never throws.
CaseResult run_case(const Case& c, const Target& target);

struct Summary {
  std::string uri;
  std::string serial;  // of the board, from a first hello
  std::vector<CaseResult> results;

  std::size_t count(Outcome outcome) const;
  bool passed() const { return count(Outcome::kFailed) == 0; }
  // One line: "conformance of URI (SERIAL): 14 passed, 1 failed, 2 skipped".
  std::string brief() const;
  // brief() then one line per case, with the message of each failed or skipped case indented
  // under it.
  std::string report() const;
};

// Runs the cases target.only selects against target (validated first). Throws common::Error
// when the board cannot be opened at all (a bad URI, no such board): there is nothing to check.
Summary run_suite(const Target& target);

}  // namespace kelvin::tools::conformance
