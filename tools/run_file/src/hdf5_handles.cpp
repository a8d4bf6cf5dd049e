#include "hdf5_handles.hpp"

#include <mutex>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"

namespace kelvin::tools::run_file::detail {
namespace {

// The innermost description on HDF5's default error stack (the first one an upward walk
// visits): the most specific reason, for example "unable to open file: ... errno = 2, error
// message = 'No such file or directory'".
herr_t keep_description(unsigned, const H5E_error2_t* error, void* out) {
  auto& kept = *static_cast<std::string*>(out);
  if (kept.empty() && error != nullptr && error->desc != nullptr)
    kept = error->desc;
  return 0;
}

std::string hdf5_reason() {
  std::string reason;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_description, &reason);
  H5Eclear2(H5E_DEFAULT);
  return reason;
}

}  // namespace

void silence_hdf5_errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

void fail(std::string_view path, std::string_view what) {
  const std::string reason = hdf5_reason();
  throw common::Error(common::ErrorKind::kInvalidArgument,
                      reason.empty()
                          ? fmt::format("run file {}: cannot {}", path, what)
                          : fmt::format("run file {}: cannot {}: {} (HDF5)", path, what, reason));
}

hid_t check(hid_t id, std::string_view path, std::string_view what) {
  if (id < 0)
    fail(path, what);
  return id;
}

void check_status(herr_t status, std::string_view path, std::string_view what) {
  if (status < 0)
    fail(path, what);
}

void FileHandle::close() {
  if (closed)
    return;
  closed = true;
  const herr_t flushed = H5Fflush(id, H5F_SCOPE_LOCAL);
  const herr_t closed_status = H5Fclose(id);
  check_status(flushed, path, "flush it");
  check_status(closed_status, path, "close it");
}

FileHandle::~FileHandle() {
  try {
    close();
  } catch (const std::exception& e) {
    common::logger("kelvin.run_file")->error("{}", e.what());
  }
}

}  // namespace kelvin::tools::run_file::detail
