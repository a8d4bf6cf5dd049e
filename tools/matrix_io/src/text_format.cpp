// Text matrices: numbers separated by whitespace and/or commas, one row per line.
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "array_data.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"

namespace kelvin::tools::matrix_io::detail {
namespace {

bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

bool ends_token(char c) noexcept {
  return is_blank(c) || c == ',';
}

enum class NumberStatus { kOk, kNotANumber, kTooLarge };

// Parses a whole token as a decimal floating-point number (an optional leading '+' is allowed;
// hexadecimal is not). Values too small for a double become zero or subnormal, as strtod does.
NumberStatus parse_number(std::string_view token, double& value) {
  std::string_view digits = token;
  if (!digits.empty() && digits.front() == '+') {
    digits.remove_prefix(1);
    if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) {
      return NumberStatus::kNotANumber;
    }
  }
  if (digits.empty())
    return NumberStatus::kNotANumber;
  const char* const end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  if (ec == std::errc::result_out_of_range && ptr == end) {
    // from_chars reports both overflow and underflow; strtod tells them apart.
    const std::string copy(digits);
    errno = 0;
    const double v = std::strtod(copy.c_str(), nullptr);
    if (std::isinf(v))
      return NumberStatus::kTooLarge;
    value = v;
    return NumberStatus::kOk;
  }
  if (ec != std::errc() || ptr != end)
    return NumberStatus::kNotANumber;
  return NumberStatus::kOk;
}

}  // namespace

std::string quote_excerpt(std::string_view text, std::size_t limit) {
  std::string out;
  for (const char c : text.substr(0, limit)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  if (text.size() > limit)
    out += "...";
  return out;
}

ArrayData parse_text(std::string_view text, const std::string& name) {
  if (text.empty())
    throw MatrixFileError(fmt::format("{}: file is empty", name));
  if (text.find('\0') != std::string_view::npos) {
    throw MatrixFileError(fmt::format(
        "{}: not a text matrix (the file contains NUL bytes) and not a .npy file", name));
  }

  ArrayData data;
  data.source = Source::kText;
  std::size_t first_row_line = 0;
  std::size_t line_number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++line_number;
    std::size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos)
      newline = text.size();
    std::string_view line = text.substr(pos, newline - pos);
    pos = newline + 1;
    if (const auto hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }

    std::size_t count = 0;
    bool after_comma = false;
    std::size_t i = 0;
    while (i < line.size()) {
      const char c = line[i];
      if (is_blank(c)) {
        ++i;
        continue;
      }
      if (c == ',') {
        if (count == 0 || after_comma) {
          throw MatrixFileError(fmt::format("{}: line {}, column {}: empty value before ','", name,
                                            line_number, i + 1));
        }
        after_comma = true;
        ++i;
        continue;
      }
      const std::size_t start = i;
      while (i < line.size() && !ends_token(line[i]))
        ++i;
      const std::string_view token = line.substr(start, i - start);
      double value = 0.0;
      switch (parse_number(token, value)) {
        case NumberStatus::kOk:
          break;
        case NumberStatus::kNotANumber:
          throw MatrixFileError(fmt::format("{}: line {}, column {}: '{}' is not a number", name,
                                            line_number, start + 1, quote_excerpt(token)));
        case NumberStatus::kTooLarge:
          throw MatrixFileError(
              fmt::format("{}: line {}, column {}: '{}' is too large for a double", name,
                          line_number, start + 1, quote_excerpt(token)));
      }
      ++count;
      if (!std::isfinite(value)) {
        throw MatrixFileError(fmt::format("{}: line {}, value {} is not finite ('{}')", name,
                                          line_number, count, quote_excerpt(token)));
      }
      after_comma = false;
      data.values.push_back(value);
    }
    if (after_comma) {
      throw MatrixFileError(fmt::format(
          "{}: line {}: ',' at the end of the line has no value after it", name, line_number));
    }
    if (count == 0)
      continue;  // blank or comment line
    if (data.rows == 0) {
      data.cols = count;
      first_row_line = line_number;
    } else if (count != data.cols) {
      throw MatrixFileError(fmt::format("{}: line {} has {} values, expected {} (as on line {})",
                                        name, line_number, count, data.cols, first_row_line));
    }
    ++data.rows;
  }
  if (data.rows == 0) {
    throw MatrixFileError(
        fmt::format("{}: contains no numbers (only blank lines and comments)", name));
  }
  return data;
}

}  // namespace kelvin::tools::matrix_io::detail
