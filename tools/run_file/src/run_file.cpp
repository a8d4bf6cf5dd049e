#include "kelvin/tools/run_file/run_file.hpp"

#include <algorithm>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "hdf5_handles.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"

namespace kelvin::tools::run_file {
namespace {

using detail::check;
using detail::check_status;
using detail::fail;
using detail::Hid;

// The element type in memory and in the file (little-endian, as every host kelvin runs on).
template <typename T>
struct Types;
template <>
struct Types<double> {
  static hid_t memory() { return H5T_NATIVE_DOUBLE; }
  static hid_t file() { return H5T_IEEE_F64LE; }
};
template <>
struct Types<std::int16_t> {
  static hid_t memory() { return H5T_NATIVE_INT16; }
  static hid_t file() { return H5T_STD_I16LE; }
};
template <>
struct Types<std::int64_t> {
  static hid_t memory() { return H5T_NATIVE_INT64; }
  static hid_t file() { return H5T_STD_I64LE; }
};

[[noreturn]] void misuse(std::string_view path, const std::string& what) {
  throw common::Error(common::ErrorKind::kInvalidArgument,
                      fmt::format("run file {}: {}", path, what));
}

// A link creation property list that creates missing parent groups.
Hid parents_created(std::string_view file) {
  Hid lcpl(check(H5Pcreate(H5P_LINK_CREATE), file, "create a property list"), H5Pclose);
  check_status(H5Pset_create_intermediate_group(lcpl.get(), 1), file, "set a property");
  return lcpl;
}

// Whether the object at `path` exists (each parent checked first, as H5Lexists requires).
bool exists(hid_t file, std::string_view file_name, std::string_view path) {
  std::string prefix;
  std::size_t at = 0;
  while (at < path.size()) {
    const std::size_t next = std::min(path.find('/', at + 1), path.size());
    prefix += path.substr(at, next - at);
    at = next;
    if (prefix == "/")
      continue;
    const htri_t found = H5Lexists(file, prefix.c_str(), H5P_DEFAULT);
    if (found < 0)
      fail(file_name, fmt::format("look up {}", prefix));
    if (found == 0)
      return false;
  }
  return true;
}

template <typename T>
void write_dataset(detail::FileHandle& file, std::string_view path, std::span<const T> values,
                   std::span<const std::uint64_t> shape) {
  if (shape.size() != 1 && shape.size() != 2)
    misuse(file.path, fmt::format("dataset {} must be 1-D or 2-D, not {}-D", path, shape.size()));
  std::uint64_t count = 1;
  for (const std::uint64_t d : shape)
    count *= d;
  if (count != values.size()) {
    misuse(file.path, fmt::format("dataset {}: its shape holds {} values, {} were given", path,
                                  count, values.size()));
  }
  const std::string name(path);
  if (exists(file.id, file.path, name))
    misuse(file.path, fmt::format("dataset {} exists already", path));
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  const std::string what = fmt::format("write dataset {}", path);
  Hid space(
      check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), file.path, what),
      H5Sclose);
  const Hid lcpl = parents_created(file.path);
  Hid dataset(check(H5Dcreate2(file.id, name.c_str(), Types<T>::file(), space.get(), lcpl.get(),
                               H5P_DEFAULT, H5P_DEFAULT),
                    file.path, what),
              H5Dclose);
  if (!values.empty()) {
    check_status(
        H5Dwrite(dataset.get(), Types<T>::memory(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
        file.path, what);
  }
}

// The object at `object` opened for attributes ("/" is the root group).
Hid open_object(const detail::FileHandle& file, std::string_view object) {
  const std::string name(object);
  return Hid(check(H5Oopen(file.id, name.c_str(), H5P_DEFAULT), file.path,
                   fmt::format("open {} to set an attribute", object)),
             H5Oclose);
}

// Writes one scalar attribute of `type`, replacing an attribute of that name.
void write_attribute(const detail::FileHandle& file, std::string_view object, std::string_view name,
                     hid_t file_type, hid_t memory_type, const void* value) {
  const Hid target = open_object(file, object);
  const std::string attribute(name);
  const std::string what = fmt::format("set attribute {} on {}", name, object);
  const htri_t found = H5Aexists(target.get(), attribute.c_str());
  check_status(found < 0 ? -1 : 0, file.path, what);
  if (found > 0)
    check_status(H5Adelete(target.get(), attribute.c_str()), file.path, what);
  Hid space(check(H5Screate(H5S_SCALAR), file.path, what), H5Sclose);
  Hid created(check(H5Acreate2(target.get(), attribute.c_str(), file_type, space.get(), H5P_DEFAULT,
                               H5P_DEFAULT),
                    file.path, what),
              H5Aclose);
  check_status(H5Awrite(created.get(), memory_type, value), file.path, what);
}

}  // namespace

template <typename T>
Appendable<T>::Appendable(std::shared_ptr<detail::FileHandle> file, std::int64_t dataset,
                          std::string path, std::uint64_t columns)
    : file_(std::move(file)), dataset_(dataset), path_(std::move(path)), columns_(columns) {}

template <typename T>
Appendable<T>::Appendable(Appendable&& other) noexcept
    : file_(std::move(other.file_)),
      dataset_(other.dataset_),
      path_(std::move(other.path_)),
      columns_(other.columns_),
      rows_(other.rows_) {
  other.dataset_ = -1;
}

template <typename T>
Appendable<T>& Appendable<T>::operator=(Appendable&& other) noexcept {
  if (this != &other) {
    Appendable closed(std::move(*this));
    file_ = std::move(other.file_);
    dataset_ = other.dataset_;
    path_ = std::move(other.path_);
    columns_ = other.columns_;
    rows_ = other.rows_;
    other.dataset_ = -1;
  }
  return *this;
}

template <typename T>
Appendable<T>::~Appendable() {
  if (dataset_ >= 0 && H5Dclose(dataset_) < 0) {
    common::logger("kelvin.run_file")
        ->error("run file {}: cannot close dataset {}", file_->path, path_);
  }
}

template <typename T>
void Appendable<T>::append(std::span<const T> values, Flush flush) {
  if (dataset_ < 0)
    throw std::logic_error("append() on a moved-from Appendable");
  if (values.size() % columns_ != 0) {
    misuse(file_->path, fmt::format("dataset {}: {} values are not whole rows of {}", path_,
                                    values.size(), columns_));
  }
  const hsize_t added = values.size() / columns_;
  const std::string what = fmt::format("append to dataset {}", path_);
  if (added > 0) {
    const hsize_t extent[2] = {rows_ + added, columns_};
    check_status(H5Dset_extent(dataset_, extent), file_->path, what);
    Hid space(check(H5Dget_space(dataset_), file_->path, what), H5Sclose);
    const hsize_t start[2] = {rows_, 0};
    const hsize_t count[2] = {added, columns_};
    check_status(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
                 file_->path, what);
    Hid memory(check(H5Screate_simple(2, count, nullptr), file_->path, what), H5Sclose);
    check_status(H5Dwrite(dataset_, Types<T>::memory(), memory.get(), space.get(), H5P_DEFAULT,
                          values.data()),
                 file_->path, what);
    rows_ += added;
  }
  if (flush == Flush::kYes)
    check_status(H5Fflush(file_->id, H5F_SCOPE_LOCAL), file_->path, "flush it");
}

RunFile::RunFile(std::filesystem::path path, std::shared_ptr<detail::FileHandle> file)
    : path_(std::move(path)), file_(std::move(file)) {}
RunFile::RunFile(RunFile&&) noexcept = default;
RunFile& RunFile::operator=(RunFile&&) noexcept = default;
RunFile::~RunFile() = default;  // the FileHandle closes (and logs) when the last holder goes

RunFile RunFile::create(const std::filesystem::path& path, Existing existing) {
  detail::silence_hdf5_errors();
  const std::string name = path.string();
  std::error_code ignored;
  if (existing == Existing::kFail && std::filesystem::exists(path, ignored)) {
    misuse(name,
           "exists already (run files are never overwritten: remove it or choose another "
           "name)");
  }
  const hid_t id =
      H5Fcreate(name.c_str(), existing == Existing::kFail ? H5F_ACC_EXCL : H5F_ACC_TRUNC,
                H5P_DEFAULT, H5P_DEFAULT);
  check(id, name, "create it");
  return RunFile(path, std::make_shared<detail::FileHandle>(id, name));
}

detail::FileHandle& RunFile::file() const {
  if (!file_ || file_->closed)
    throw std::logic_error(fmt::format("run file {} is closed", path_.string()));
  return *file_;
}

void RunFile::create_group(std::string_view path) {
  detail::FileHandle& f = file();
  if (exists(f.id, f.path, path))
    return;
  const std::string name(path);
  const Hid lcpl = parents_created(f.path);
  Hid group(check(H5Gcreate2(f.id, name.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), f.path,
                  fmt::format("create group {}", path)),
            H5Gclose);
}

void RunFile::set_attribute(std::string_view object, std::string_view name,
                            std::string_view value) {
  const detail::FileHandle& f = file();
  Hid type(check(H5Tcopy(H5T_C_S1), f.path, "make a string type"), H5Tclose);
  check_status(H5Tset_size(type.get(), H5T_VARIABLE), f.path, "make a string type");
  check_status(H5Tset_cset(type.get(), H5T_CSET_UTF8), f.path, "make a string type");
  const std::string text(value);
  const char* data = text.c_str();
  write_attribute(f, object, name, type.get(), type.get(), &data);
}

void RunFile::set_attribute(std::string_view object, std::string_view name, double value) {
  write_attribute(file(), object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

void RunFile::set_attribute(std::string_view object, std::string_view name, std::int64_t value) {
  write_attribute(file(), object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void RunFile::write(std::string_view path, std::span<const double> values,
                    std::span<const std::uint64_t> shape) {
  write_dataset(file(), path, values, shape);
}
void RunFile::write(std::string_view path, std::span<const std::int16_t> values,
                    std::span<const std::uint64_t> shape) {
  write_dataset(file(), path, values, shape);
}
void RunFile::write(std::string_view path, std::span<const std::int64_t> values,
                    std::span<const std::uint64_t> shape) {
  write_dataset(file(), path, values, shape);
}

template <typename T>
Appendable<T> RunFile::appendable(std::string_view path, std::uint64_t columns,
                                  std::uint64_t chunk_rows) {
  detail::FileHandle& f = file();
  if (columns == 0)
    misuse(f.path, fmt::format("appendable dataset {} needs at least one column", path));
  if (chunk_rows == 0)
    chunk_rows = std::max<std::uint64_t>(1, (64 * 1024) / (sizeof(T) * columns));
  const std::string name(path);
  if (exists(f.id, f.path, name))
    misuse(f.path, fmt::format("dataset {} exists already", path));
  const std::string what = fmt::format("create dataset {}", path);
  const hsize_t dims[2] = {0, columns};
  const hsize_t max_dims[2] = {H5S_UNLIMITED, columns};
  const hsize_t chunk[2] = {chunk_rows, columns};
  Hid space(check(H5Screate_simple(2, dims, max_dims), f.path, what), H5Sclose);
  Hid dcpl(check(H5Pcreate(H5P_DATASET_CREATE), f.path, what), H5Pclose);
  check_status(H5Pset_chunk(dcpl.get(), 2, chunk), f.path, what);
  const Hid lcpl = parents_created(f.path);
  const hid_t dataset = check(H5Dcreate2(f.id, name.c_str(), Types<T>::file(), space.get(),
                                         lcpl.get(), dcpl.get(), H5P_DEFAULT),
                              f.path, what);
  return Appendable<T>(file_, dataset, name, columns);
}

void RunFile::flush() {
  const detail::FileHandle& f = file();
  check_status(H5Fflush(f.id, H5F_SCOPE_LOCAL), f.path, "flush it");
}

void RunFile::close() {
  if (file_)
    file_->close();
}

template class Appendable<double>;
template class Appendable<std::int16_t>;
template class Appendable<std::int64_t>;
template Appendable<double> RunFile::appendable<double>(std::string_view, std::uint64_t,
                                                        std::uint64_t);
template Appendable<std::int16_t> RunFile::appendable<std::int16_t>(std::string_view, std::uint64_t,
                                                                    std::uint64_t);
template Appendable<std::int64_t> RunFile::appendable<std::int64_t>(std::string_view, std::uint64_t,
                                                                    std::uint64_t);

}  // namespace kelvin::tools::run_file
