#include "stream_run_file.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include <fmt/format.h>

namespace kelvin::tools::cli {
namespace {

constexpr std::uint64_t kFrameColumns = 4;  // first_row, first_sequence, samples, lost_before
constexpr auto kMaxHold = std::chrono::milliseconds(250);

run_file::RunFile created(const std::string& path, const RunRecord& record,
                          const driver::SymmetricCodes* couplings,
                          std::span<const std::int16_t> biases) {
  run_file::RunFile file = open_run_file(path, record);
  if (couplings != nullptr) {
    const std::uint32_t n = couplings->size();
    std::vector<std::int16_t> dense(static_cast<std::size_t>(n) * n);
    for (std::uint32_t i = 0; i < n; ++i) {
      for (std::uint32_t j = 0; j < n; ++j)
        dense[static_cast<std::size_t>(i) * n + j] = couplings->get(i, j);
    }
    const std::array<std::uint64_t, 2> square{n, n};
    file.write("/settings/coupling_codes", std::span<const std::int16_t>(dense), square);
    const std::array<std::uint64_t, 1> line{biases.size()};
    file.write("/settings/bias_codes", biases, line);
  }
  return file;
}

}  // namespace

StreamRunFile::StreamRunFile(const std::string& path, const RunRecord& record, std::uint32_t cells,
                             const driver::SymmetricCodes* couplings,
                             std::span<const std::int16_t> biases)
    : path_(path),
      cells_(cells),
      file_(created(path, record, couplings, biases)),
      // Chunks of about kChunkCodes codes: few chunks to index on streams of hours.
      codes_(file_.appendable<std::int16_t>(fmt::format("{}/codes", kDataGroup), cells,
                                            std::max<std::size_t>(1, kChunkCodes / cells))),
      frames_(file_.appendable<std::int64_t>(fmt::format("{}/frames", kDataGroup), kFrameColumns)),
      last_write_(std::chrono::steady_clock::now()) {
  held_codes_.reserve(kChunkCodes + cells);
  file_.flush();
}

void StreamRunFile::append(std::span<const std::int16_t> codes, std::uint64_t first_sequence,
                           std::uint64_t lost_before) {
  if (codes.size() % cells_ != 0) {
    throw std::logic_error(
        fmt::format("{} codes are not whole samples of {} cells", codes.size(), cells_));
  }
  const std::uint64_t samples = codes.size() / cells_;
  for (const std::uint64_t v : {rows_, first_sequence, samples, lost_before})
    held_frames_.push_back(static_cast<std::int64_t>(v));
  held_codes_.insert(held_codes_.end(), codes.begin(), codes.end());
  rows_ += samples;
  if (held_codes_.size() >= kChunkCodes ||
      std::chrono::steady_clock::now() - last_write_ >= kMaxHold)
    write_held();
}

void StreamRunFile::write_held() {
  // Codes first, unflushed; then the frames that describe them, and one flush for both.
  codes_.append(held_codes_, run_file::Appendable<std::int16_t>::Flush::kNo);
  frames_.append(held_frames_);
  held_codes_.clear();
  held_frames_.clear();
  last_write_ = std::chrono::steady_clock::now();
}

void StreamRunFile::finish(nlohmann::ordered_json metadata) {
  write_held();
  if (metadata.contains("error") && metadata["error"].is_string())
    record_run_error(file_, metadata["error"].get<std::string>());
  write_json_attributes(file_, fmt::format("{}/codes", kDataGroup), metadata);
  file_.flush();
}

void StreamRunFile::summarize(const nlohmann::ordered_json& summary) {
  finish_run_file(file_, summary);
}

std::string StreamRunFile::describe() const {
  return fmt::format("samples, settings and summary in the run file {}", path_.string());
}

}  // namespace kelvin::tools::cli
