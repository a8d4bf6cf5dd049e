// Internal to kelvin_tools_matrix_io: the format-independent result of parsing a file, and the two
// parsers (and the Matrix Market one, which gives a sparse matrix). Not installed, not part of the
// public API.
//
// Thread contract: plain functions and a plain value type.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/SparseCore>

namespace kelvin::tools::matrix_io::detail {

enum class Source { kText, kNpy };

// A 1-D or 2-D array of finite doubles in row-major (C) order.
struct ArrayData {
  Source source = Source::kText;
  std::size_t ndim = 2;  // 1 or 2
  std::size_t rows = 0;  // for ndim 1: the length
  std::size_t cols = 0;  // for ndim 1: 1
  std::vector<double> values;
};

// `name` is the file's name as shown in error messages.
ArrayData parse_text(std::string_view text, const std::string& name);
ArrayData parse_npy(std::span<const unsigned char> bytes, const std::string& name);
bool has_npy_magic(std::span<const unsigned char> bytes) noexcept;
// Matrix Market coordinate real|integer general|symmetric (matrix_market_format.cpp).
Eigen::SparseMatrix<double> parse_matrix_market(std::string_view text, const std::string& name);
bool has_matrix_market_banner(std::span<const unsigned char> bytes) noexcept;
// "coordinate real general", every stored entry, values as "%.17g".
std::string format_matrix_market(const Eigen::SparseMatrix<double>& matrix);

// Printable form of a piece of file content for an error message: at most `limit` characters,
// non-printable bytes shown as '?'.
std::string quote_excerpt(std::string_view text, std::size_t limit = 40);

}  // namespace kelvin::tools::matrix_io::detail
