// Matrix Market coordinate files (https://math.nist.gov/MatrixMarket/formats.html): a banner
// "%%MatrixMarket matrix coordinate real|integer general|symmetric", '%' comment lines, a size
// line "rows cols entries", then one "i j value" line per entry with 1-based indices. A symmetric
// file stores the lower triangle (i >= j); the upper one is its mirror.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "array_data.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"

namespace kelvin::tools::matrix_io::detail {
namespace {

constexpr std::string_view kBanner = "%%MatrixMarket";
constexpr std::string_view kExpectedBanner =
    "%%MatrixMarket matrix coordinate real|integer general|symmetric";

bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> tokens;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i]))
      ++i;
    const std::size_t start = i;
    while (i < line.size() && !is_blank(line[i]))
      ++i;
    if (i > start)
      tokens.push_back(line.substr(start, i - start));
  }
  return tokens;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Reads the lines of `text` one at a time, counting them.
class Lines {
 public:
  explicit Lines(std::string_view text) : text_(text) {}
  bool next(std::string_view& line) {
    if (pos_ >= text_.size())
      return false;
    std::size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos)
      end = text_.size();
    line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++number_;
    return true;
  }
  std::size_t number() const { return number_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t number_ = 0;
};

struct Header {
  bool integer = false;
  bool symmetric = false;
};

Header parse_banner(std::string_view line, const std::string& name) {
  const std::vector<std::string_view> t = split(line);
  if (t.empty() || t[0] != kBanner || t.size() != 5) {
    throw MatrixFileError(fmt::format("{}: line 1: bad Matrix Market banner '{}'; expected '{}'",
                                      name, quote_excerpt(line, 80), kExpectedBanner));
  }
  const std::string object = lower(t[1]), format = lower(t[2]), field = lower(t[3]),
                    symmetry = lower(t[4]);
  if (object != "matrix") {
    throw MatrixFileError(fmt::format("{}: line 1: object '{}' is not supported; need 'matrix'",
                                      name, quote_excerpt(t[1])));
  }
  if (format != "coordinate") {
    throw MatrixFileError(fmt::format(
        "{}: line 1: format '{}' is not supported; need 'coordinate' (for a dense matrix use a "
        "text or .npy file)",
        name, quote_excerpt(t[2])));
  }
  if (field != "real" && field != "integer") {
    throw MatrixFileError(
        fmt::format("{}: line 1: field '{}' is not supported; need 'real' or 'integer'", name,
                    quote_excerpt(t[3])));
  }
  if (symmetry != "general" && symmetry != "symmetric") {
    throw MatrixFileError(
        fmt::format("{}: line 1: symmetry '{}' is not supported; need 'general' or 'symmetric'",
                    name, quote_excerpt(t[4])));
  }
  return {field == "integer", symmetry == "symmetric"};
}

// A whole token as an unsigned integer; false if it is not one or does not fit.
bool parse_count(std::string_view token, std::uint64_t& value) {
  const char* const end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, value);
  return ec == std::errc() && ptr == end;
}

// A whole token as a decimal number (an integer if `integer`); false if it is not one.
bool parse_value(std::string_view token, bool integer, double& value) {
  std::string_view digits = token;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-'))
    digits.remove_prefix(1);
  if (digits.empty())
    return false;
  if (integer && !std::all_of(digits.begin(), digits.end(),
                              [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return false;
  }
  if (token.front() == '+')
    token.remove_prefix(1);
  const char* const end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, value);
  if (ptr != end)
    return false;
  if (ec == std::errc::result_out_of_range) {
    // Overflow or underflow: strtod tells them apart; an overflow is reported as not finite.
    value = std::strtod(std::string(token).c_str(), nullptr);
    return true;
  }
  return ec == std::errc();
}

struct Entry {
  std::int64_t row = 0;
  std::int64_t col = 0;
  double value = 0.0;
  std::size_t line = 0;
};

}  // namespace

bool has_matrix_market_banner(std::span<const unsigned char> bytes) noexcept {
  return bytes.size() >= kBanner.size() &&
         std::equal(kBanner.begin(), kBanner.end(), bytes.begin(),
                    [](char a, unsigned char b) { return static_cast<unsigned char>(a) == b; });
}

Eigen::SparseMatrix<double> parse_matrix_market(std::string_view text, const std::string& name) {
  if (text.empty())
    throw MatrixFileError(fmt::format("{}: file is empty", name));
  Lines lines(text);
  std::string_view line;
  lines.next(line);
  const Header header = parse_banner(line, name);

  // The size line: the first line that is neither a comment nor blank.
  std::vector<std::string_view> t;
  while (t.empty()) {
    if (!lines.next(line)) {
      throw MatrixFileError(
          fmt::format("{}: no size line ('rows columns entries') after the banner", name));
    }
    if (line.find_first_not_of(" \t\r\v\f") != std::string_view::npos && split(line)[0][0] != '%')
      t = split(line);
  }
  const std::size_t size_line = lines.number();
  std::uint64_t rows = 0, cols = 0, declared = 0;
  constexpr auto kMaxIndex = static_cast<std::uint64_t>(std::numeric_limits<int>::max());
  if (t.size() != 3 || !parse_count(t[0], rows) || !parse_count(t[1], cols) ||
      !parse_count(t[2], declared) || rows == 0 || cols == 0 || rows > kMaxIndex ||
      cols > kMaxIndex) {
    throw MatrixFileError(fmt::format(
        "{}: line {}: bad size line '{}'; expected 'rows columns entries' (rows and columns "
        "from 1 to {})",
        name, size_line, quote_excerpt(line), kMaxIndex));
  }
  if (header.symmetric && rows != cols) {
    throw MatrixFileError(fmt::format("{}: line {}: a symmetric matrix must be square, not {} x {}",
                                      name, size_line, rows, cols));
  }

  std::vector<Entry> entries;
  // Each entry line takes at least 6 bytes ("1 1 1\n"): a huge declared count cannot allocate.
  entries.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(declared, text.size() / 6)));
  while (lines.next(line)) {
    t = split(line);
    if (t.empty() || t[0][0] == '%')
      continue;
    const std::size_t n = lines.number();
    if (entries.size() == declared) {
      throw MatrixFileError(fmt::format("{}: line {}: more entries than the {} declared on line {}",
                                        name, n, declared, size_line));
    }
    if (t.size() != 3) {
      throw MatrixFileError(fmt::format(
          "{}: line {} has {} values, expected 3 (row, column, value)", name, n, t.size()));
    }
    std::uint64_t i = 0, j = 0;
    if (!parse_count(t[0], i) || !parse_count(t[1], j)) {
      throw MatrixFileError(fmt::format(
          "{}: line {}: '{}' is not a valid entry: row and column must be positive integers", name,
          n, quote_excerpt(line)));
    }
    if (i < 1 || i > rows || j < 1 || j > cols) {
      throw MatrixFileError(fmt::format(
          "{}: line {}: index ({}, {}) is out of range for a {} x {} matrix (indices are 1-based)",
          name, n, t[0], t[1], rows, cols));
    }
    if (header.symmetric && j > i) {
      throw MatrixFileError(fmt::format(
          "{}: line {}: entry ({}, {}) is above the diagonal; a symmetric file stores only the "
          "lower triangle (row >= column)",
          name, n, i, j));
    }
    double value = 0.0;
    if (!parse_value(t[2], header.integer, value)) {
      throw MatrixFileError(fmt::format("{}: line {}: '{}' is not {}", name, n, quote_excerpt(t[2]),
                                        header.integer ? "an integer" : "a number"));
    }
    if (!std::isfinite(value)) {
      throw MatrixFileError(
          fmt::format("{}: line {}: value '{}' is not finite", name, n, quote_excerpt(t[2])));
    }
    entries.push_back(
        {static_cast<std::int64_t>(i - 1), static_cast<std::int64_t>(j - 1), value, n});
  }
  if (entries.size() != declared) {
    throw MatrixFileError(fmt::format("{}: has {} entries, but the size line (line {}) declares {}",
                                      name, entries.size(), size_line, declared));
  }

  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.col != b.col ? a.col < b.col : a.row < b.row;
  });
  for (std::size_t k = 1; k < entries.size(); ++k) {
    const Entry& a = entries[k - 1];
    const Entry& b = entries[k];
    if (a.row == b.row && a.col == b.col) {
      throw MatrixFileError(fmt::format("{}: lines {} and {} both give entry ({}, {})", name,
                                        std::min(a.line, b.line), std::max(a.line, b.line),
                                        a.row + 1, a.col + 1));
    }
  }

  std::vector<Eigen::Triplet<double>> triplets;
  triplets.reserve(entries.size() * (header.symmetric ? 2 : 1));
  for (const Entry& e : entries) {
    const auto r = static_cast<int>(e.row), c = static_cast<int>(e.col);
    triplets.emplace_back(r, c, e.value);
    if (header.symmetric && r != c)
      triplets.emplace_back(c, r, e.value);
  }
  Eigen::SparseMatrix<double> matrix(static_cast<Eigen::Index>(rows),
                                     static_cast<Eigen::Index>(cols));
  matrix.setFromTriplets(triplets.begin(), triplets.end());
  return matrix;
}

std::string format_matrix_market(const Eigen::SparseMatrix<double>& matrix) {
  std::string out = fmt::format("%%MatrixMarket matrix coordinate real general\n{} {} {}\n",
                                matrix.rows(), matrix.cols(), matrix.nonZeros());
  for (Eigen::Index k = 0; k < matrix.outerSize(); ++k) {
    for (Eigen::SparseMatrix<double>::InnerIterator it(matrix, k); it; ++it) {
      fmt::format_to(std::back_inserter(out), "{} {} {:.17g}\n", it.row() + 1, it.col() + 1,
                     it.value());
    }
  }
  return out;
}

}  // namespace kelvin::tools::matrix_io::detail
