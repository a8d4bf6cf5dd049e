#include "kelvin/runtime/calibration/calibration_cache.hpp"

#include <sys/stat.h>

#include <utility>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/calibration/calibration_file.hpp"

namespace kelvin::runtime::calibration {

std::optional<CalibrationCache::FileKey> CalibrationCache::key_of(
    const std::filesystem::path& file, const driver::DeviceDescription& board) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    return std::nullopt;
  FileKey key;
  key.path = file;
  key.device = static_cast<std::uint64_t>(st.st_dev);
  key.inode = static_cast<std::uint64_t>(st.st_ino);
  key.size = static_cast<std::int64_t>(st.st_size);
  key.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                 static_cast<std::int64_t>(st.st_mtim.tv_nsec);
  key.serial = board.serial;
  key.cells = board.cells;
  return key;
}

std::shared_ptr<const AppliedCalibration> CalibrationCache::resolve(
    const CalibrationSelection& selection, const driver::DeviceDescription& board) {
  selection.validate();
  if (selection.mode == CalibrationSelection::Mode::kNone)
    return none_;
  std::filesystem::path file = selection.file;
  if (selection.mode == CalibrationSelection::Mode::kAuto) {
    try {
      file = calibration_path(board.serial);
    } catch (const common::Error&) {
      return none_;  // no calibration directory at all: nothing to look up
    }
  }
  std::optional<FileKey> key = key_of(file, board);
  if (!key) {
    if (selection.mode == CalibrationSelection::Mode::kAuto)
      return none_;  // no file for this board
    // A given file that cannot be looked at: resolve_calibration() names why.
    return std::make_shared<const AppliedCalibration>(resolve_calibration(selection, board));
  }
  if (key_ && *key_ == *key)
    return cached_;
  // Read what is there now; a file replaced between the stat() and the read gets another key
  // at the next call, so it is read again then.
  key_.reset();
  AppliedCalibration applied;
  BoardCalibration c = read_calibration(file);
  check_board(c, board, file);
  applied.calibration = std::move(c);
  applied.file = std::move(file);
  ++reads_;
  cached_ = std::make_shared<const AppliedCalibration>(std::move(applied));
  key_ = std::move(key);
  return cached_;
}

}  // namespace kelvin::runtime::calibration
