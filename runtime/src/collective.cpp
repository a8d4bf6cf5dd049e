#include "kelvin/runtime/collective.hpp"

#include <chrono>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "kelvin/common/logging.hpp"

namespace kelvin::runtime {

using common::Deadline;
using common::Error;
using common::ErrorKind;

namespace {

// A failure as it travels to the other ranks: its kind, then the failing rank's text.
std::vector<std::uint8_t> encode_failure(ErrorKind kind, const std::string& text) {
  std::vector<std::uint8_t> out(1 + text.size());
  out[0] = static_cast<std::uint8_t>(kind);
  std::memcpy(out.data() + 1, text.data(), text.size());
  return out;
}

}  // namespace

template <typename Op>
void Collective::account(std::string_view step, std::size_t bytes, Op&& op) {
  if (poisoned_) {
    throw Error(ErrorKind::kTimeout,
                fmt::format("rank {} of {}: '{}' not attempted: an earlier collective operation "
                            "timed out, so the ranks no longer line up",
                            rank(), size(), step));
  }
  const auto start = std::chrono::steady_clock::now();
  try {
    op();
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kTimeout) {
      poisoned_ = true;
      throw Error(ErrorKind::kTimeout,
                  fmt::format("rank {} of {}{}: the deadline passed while waiting for the other "
                              "ranks in '{}' (a rank is stalled or gone)",
                              rank(), size(), label_.empty() ? "" : " (" + label_ + ")", step));
    }
    throw;
  }
  stats_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ++stats_.operations;
  stats_.bytes += bytes;
}

void Collective::sum(std::span<double> values, Deadline deadline, std::string_view step) {
  account(step, values.size_bytes(), [&] { do_reduce_double(values, Reduction::kSum, deadline); });
}

void Collective::sum(std::span<std::int64_t> values, Deadline deadline, std::string_view step) {
  account(step, values.size_bytes(), [&] { do_reduce_int64(values, Reduction::kSum, deadline); });
}

void Collective::min(std::span<std::int64_t> values, Deadline deadline, std::string_view step) {
  account(step, values.size_bytes(), [&] { do_reduce_int64(values, Reduction::kMin, deadline); });
}

double Collective::sum(double value, Deadline deadline, std::string_view step) {
  sum(std::span<double>(&value, 1), deadline, step);
  return value;
}

std::vector<std::vector<std::uint8_t>> Collective::gather_all(std::span<const std::uint8_t> mine,
                                                              Deadline deadline,
                                                              std::string_view step) {
  std::vector<std::vector<std::uint8_t>> out;
  account(step, mine.size(), [&] { out = do_gather_all(mine, deadline); });
  return out;
}

void Collective::broadcast(std::vector<std::uint8_t>& data, int root, Deadline deadline,
                           std::string_view step) {
  if (root < 0 || root >= size()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("broadcast from rank {} in a group of {}", root, size()));
  }
  account(step, rank() == root ? data.size() : 0, [&] { do_broadcast(data, root, deadline); });
}

void Collective::agree(std::exception_ptr failure, Deadline deadline, std::string_view step) {
  ErrorKind kind = ErrorKind::kDevice;
  std::string text;
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const Error& e) {
      kind = e.kind();
      text = e.what();
    } catch (const std::exception& e) {
      text = fmt::format("unexpected error: {}", e.what());
    } catch (...) {
      text = "unexpected error of unknown type";
    }
  }
  if (size() == 1) {
    if (failure)
      std::rethrow_exception(failure);
    return;
  }
  // A board call that failed at the deadline itself (a stalled board) must still be agreed on:
  // the agreement has kAgreementGrace beyond the job's deadline.
  if (!deadline.is_never())
    deadline = Deadline::at(deadline.when() + kAgreementGrace);
  // Which failure is reported: the lowest failing rank whose failure is not a timeout, else the
  // lowest failing rank. A timeout is usually a consequence (a rank that went on working until
  // the deadline while another's board had already gone), so it must not hide the cause.
  // Priority: rank for a cause, size + rank for a timeout, 2 size when this rank did not fail.
  std::int64_t priority = 2 * static_cast<std::int64_t>(size());
  if (failure)
    priority = (kind == ErrorKind::kTimeout ? size() : 0) + rank();
  min(std::span<std::int64_t>(&priority, 1), deadline, step);
  if (priority == 2 * static_cast<std::int64_t>(size()))
    return;
  const std::int64_t first = priority % size();
  std::vector<std::uint8_t> story;
  if (first == rank())
    story = encode_failure(kind, text);
  broadcast(story, static_cast<int>(first), deadline, step);
  const auto raw = story.empty() ? std::uint8_t{0} : story[0];
  const auto agreed_kind = raw <= static_cast<std::uint8_t>(ErrorKind::kLateCommand)
                               ? static_cast<ErrorKind>(raw)
                               : ErrorKind::kDevice;
  const std::string agreed_text(story.begin() + (story.empty() ? 0 : 1), story.end());
  // The label travels with the failing rank's text so that every rank names the same board.
  std::string who;
  if (first == rank() && !label_.empty())
    who = " (" + label_ + ")";
  std::vector<std::uint8_t> label_bytes(who.begin(), who.end());
  broadcast(label_bytes, static_cast<int>(first), deadline, step);
  who.assign(label_bytes.begin(), label_bytes.end());
  const std::string message =
      fmt::format("rank {} of {}{} failed in '{}': {}", first, size(), who, step, agreed_text);
  if (first != rank())
    common::logger("kelvin.runtime")->error("{}", message);
  throw Error(agreed_kind, message);
}

}  // namespace kelvin::runtime
