#include "kelvin/tools/matrix_io/matrix_io.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "array_data.hpp"

namespace kelvin::tools::matrix_io {
namespace {

namespace fs = std::filesystem;
using detail::ArrayData;

// Matrices for boards of a few hundred cells are kilobytes; this only stops runaway reads.
constexpr std::size_t kMaxFileBytes = std::size_t{1} << 30;

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

std::string display_name(const fs::path& path) {
  return path.string();
}

std::vector<unsigned char> read_file(const fs::path& path) {
  const std::string name = display_name(path);
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw MatrixFileError(fmt::format("{}: is a directory", name));
  errno = 0;
  File file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    throw MatrixFileError(fmt::format("{}: cannot open: {}", name, std::strerror(errno)));
  }
  std::vector<unsigned char> bytes;
  unsigned char chunk[65536];
  while (true) {
    const std::size_t got = std::fread(chunk, 1, sizeof chunk, file.get());
    if (got > kMaxFileBytes - bytes.size()) {
      throw MatrixFileError(fmt::format("{}: file is larger than {} bytes", name, kMaxFileBytes));
    }
    bytes.insert(bytes.end(), chunk, chunk + got);
    if (got < sizeof chunk)
      break;
  }
  if (std::ferror(file.get())) {
    throw MatrixFileError(fmt::format("{}: read error: {}", name, std::strerror(errno)));
  }
  return bytes;
}

bool has_npy_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".npy";
}

bool has_npz_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".npz";
}

bool has_mtx_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".mtx";
}

bool is_matrix_market(const std::vector<unsigned char>& bytes, const fs::path& path) {
  return (detail::has_matrix_market_banner(bytes) || has_mtx_extension(path)) &&
         !detail::has_npy_magic(bytes);
}

Eigen::SparseMatrix<double> parse_matrix_market(const std::vector<unsigned char>& bytes,
                                                const fs::path& path) {
  return detail::parse_matrix_market(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
      display_name(path));
}

// Text or .npy (Matrix Market is handled by the callers, since it is sparse).
ArrayData load(const std::vector<unsigned char>& bytes, const fs::path& path) {
  const std::string name = display_name(path);
  if (detail::has_npy_magic(bytes) || has_npy_extension(path)) {
    return detail::parse_npy(bytes, name);
  }
  if (has_npz_extension(path)) {
    throw MatrixFileError(
        fmt::format("{}: .npz archives are not supported; save one array with numpy.save", name));
  }
  return detail::parse_text(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), name);
}

Eigen::MatrixXd to_dense(const ArrayData& data) {
  Eigen::MatrixXd matrix(static_cast<Eigen::Index>(data.rows),
                         static_cast<Eigen::Index>(data.cols));
  for (std::size_t i = 0; i < data.rows; ++i) {
    for (std::size_t j = 0; j < data.cols; ++j) {
      matrix(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) =
          data.values[i * data.cols + j];
    }
  }
  return matrix;
}

void write_file(const fs::path& path, std::string_view content) {
  const std::string name = display_name(path);
  errno = 0;
  File file(std::fopen(path.c_str(), "wb"));
  if (!file) {
    throw MatrixFileError(fmt::format("{}: cannot create: {}", name, std::strerror(errno)));
  }
  const std::size_t put = std::fwrite(content.data(), 1, content.size(), file.get());
  std::FILE* raw = file.release();
  const int close_result = std::fclose(raw);
  if (put != content.size() || close_result != 0) {
    throw MatrixFileError(fmt::format("{}: write error: {}", name, std::strerror(errno)));
  }
}

void append_le(std::string& out, std::uint64_t value, std::size_t size) {
  for (std::size_t k = 0; k < size; ++k) {
    out.push_back(static_cast<char>((value >> (8 * k)) & 0xff));
  }
}

std::string npy_bytes(const std::string& shape, std::size_t rows, std::size_t cols,
                      const auto& at) {
  std::string out = npy_header("<f8", shape);
  out.reserve(out.size() + rows * cols * 8);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j)
      append_le(out, std::bit_cast<std::uint64_t>(at(i, j)), 8);
  }
  return out;
}

}  // namespace

std::string npy_header(std::string_view descr, std::string_view shape, std::size_t total_bytes) {
  std::string dict =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr, shape);
  // Magic (6), version (2), header length (2); the dictionary is padded with spaces and ends in
  // '\n', so that the data starts at total_bytes (by default the next 64-byte boundary).
  constexpr std::size_t kPreamble = 10;
  const std::size_t unpadded = kPreamble + dict.size() + 1;
  const std::size_t total = total_bytes != 0 ? total_bytes : unpadded + (64 - unpadded % 64) % 64;
  if (total < unpadded || total - kPreamble > 0xFFFF) {
    throw MatrixFileError(
        fmt::format(".npy header of {} bytes does not fit in {} bytes", unpadded, total));
  }
  dict.append(total - unpadded, ' ');
  dict.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  append_le(out, dict.size(), 2);
  return out + dict;
}

Eigen::MatrixXd read_matrix(const fs::path& path) {
  const std::vector<unsigned char> bytes = read_file(path);
  if (is_matrix_market(bytes, path))
    return Eigen::MatrixXd(parse_matrix_market(bytes, path));
  const ArrayData data = load(bytes, path);
  if (data.ndim != 2) {
    throw MatrixFileError(fmt::format("{}: is a 1-D array of {} values; a matrix needs a 2-D array",
                                      display_name(path), data.rows));
  }
  return to_dense(data);
}

Eigen::SparseMatrix<double> read_sparse_matrix(const fs::path& path) {
  const std::vector<unsigned char> bytes = read_file(path);
  if (is_matrix_market(bytes, path))
    return parse_matrix_market(bytes, path);
  const ArrayData data = load(bytes, path);
  if (data.ndim != 2) {
    throw MatrixFileError(fmt::format("{}: is a 1-D array of {} values; a matrix needs a 2-D array",
                                      display_name(path), data.rows));
  }
  return to_dense(data).sparseView(0.0, 0.0);
}

bool is_matrix_market_file(const fs::path& path) {
  if (has_mtx_extension(path))
    return true;
  File file(std::fopen(path.c_str(), "rb"));
  if (!file)
    return false;
  unsigned char start[16] = {};
  const std::size_t got = std::fread(start, 1, sizeof start, file.get());
  return detail::has_matrix_market_banner(std::span<const unsigned char>(start, got));
}

Eigen::VectorXd read_vector(const fs::path& path) {
  const std::vector<unsigned char> bytes = read_file(path);
  if (is_matrix_market(bytes, path)) {
    const Eigen::SparseMatrix<double> m = parse_matrix_market(bytes, path);
    if (m.rows() != 1 && m.cols() != 1) {
      throw MatrixFileError(fmt::format("{}: is a {} x {} matrix; a vector needs n x 1 or 1 x n",
                                        display_name(path), m.rows(), m.cols()));
    }
    return Eigen::MatrixXd(m).reshaped();
  }
  const ArrayData data = load(bytes, path);
  if (data.ndim == 2 && data.rows != 1 && data.cols != 1) {
    if (data.source == detail::Source::kText) {
      throw MatrixFileError(fmt::format(
          "{}: is a {} x {} matrix; a vector needs one number per line, or all on one line",
          display_name(path), data.rows, data.cols));
    }
    throw MatrixFileError(fmt::format(
        "{}: array of shape ({}, {}) is not a vector; need shape (n,), (n, 1) or (1, n)",
        display_name(path), data.rows, data.cols));
  }
  Eigen::VectorXd vector(static_cast<Eigen::Index>(data.values.size()));
  for (std::size_t k = 0; k < data.values.size(); ++k) {
    vector(static_cast<Eigen::Index>(k)) = data.values[k];
  }
  return vector;
}

void write_matrix_text(const fs::path& path, const Eigen::MatrixXd& matrix) {
  std::string out;
  for (Eigen::Index i = 0; i < matrix.rows(); ++i) {
    for (Eigen::Index j = 0; j < matrix.cols(); ++j) {
      if (j > 0)
        out.push_back(' ');
      fmt::format_to(std::back_inserter(out), "{:.17g}", matrix(i, j));
    }
    out.push_back('\n');
  }
  write_file(path, out);
}

void write_vector_text(const fs::path& path, const Eigen::VectorXd& vector) {
  std::string out;
  for (Eigen::Index i = 0; i < vector.size(); ++i) {
    fmt::format_to(std::back_inserter(out), "{:.17g}\n", vector(i));
  }
  write_file(path, out);
}

void write_npy(const fs::path& path, const Eigen::MatrixXd& matrix) {
  const auto rows = static_cast<std::size_t>(matrix.rows());
  const auto cols = static_cast<std::size_t>(matrix.cols());
  write_file(
      path,
      npy_bytes(fmt::format("({}, {})", rows, cols), rows, cols, [&](std::size_t i, std::size_t j) {
        return matrix(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
      }));
}

void write_npy(const fs::path& path, const Eigen::VectorXd& vector) {
  const auto n = static_cast<std::size_t>(vector.size());
  write_file(path, npy_bytes(fmt::format("({},)", n), n, 1, [&](std::size_t i, std::size_t) {
               return vector(static_cast<Eigen::Index>(i));
             }));
}

void write_matrix_market(const fs::path& path, const Eigen::SparseMatrix<double>& matrix) {
  write_file(path, detail::format_matrix_market(matrix));
}

}  // namespace kelvin::tools::matrix_io
