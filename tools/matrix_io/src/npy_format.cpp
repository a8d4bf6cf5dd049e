// NumPy .npy files (format versions 1.0, 2.0, 3.0), as specified in numpy/lib/format.py:
//   "\x93NUMPY" major minor header_len(LE u16 for 1.0, LE u32 for 2.0/3.0) header data
// where the header is a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': ...}.
// Every read is bounds-checked against the file's size; the header length is capped.
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "array_data.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"

namespace kelvin::tools::matrix_io::detail {
namespace {

constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
// numpy itself refuses headers over 10000 bytes unless told otherwise; a 2-D header needs ~100.
constexpr std::size_t kMaxHeaderBytes = 65536;
// 2^53: every integer of at most this magnitude is exactly a double.
constexpr std::int64_t kMaxExactInteger = std::int64_t{1} << 53;

enum class Dtype { kF8, kF4, kI8, kI4 };

std::size_t item_size(Dtype dtype) noexcept {
  return dtype == Dtype::kF8 || dtype == Dtype::kI8 ? 8 : 4;
}

std::uint64_t load_le(const unsigned char* p, std::size_t size) noexcept {
  std::uint64_t v = 0;
  for (std::size_t k = 0; k < size; ++k)
    v |= std::uint64_t{p[k]} << (8 * k);
  return v;
}

// The parsed header dict.
struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::uint64_t> shape;
};

// A recursive-descent parser for the subset of Python literals that .npy headers use.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  Header parse() {
    Header header;
    bool have_descr = false;
    bool have_order = false;
    bool have_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      const std::string key = parse_string("a key");
      expect(':');
      if (key == "descr") {
        skip_space();
        if (peek() == '[')
          fail("structured dtypes (records) are not supported");
        header.descr = parse_string("the 'descr' string");
        have_descr = duplicate_check(have_descr, key);
      } else if (key == "fortran_order") {
        header.fortran_order = parse_bool();
        have_order = duplicate_check(have_order, key);
      } else if (key == "shape") {
        header.shape = parse_shape();
        have_shape = duplicate_check(have_shape, key);
      } else {
        fail(fmt::format("unexpected key '{}'", quote_excerpt(key)));
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != '}') {
        fail("expected ',' or '}' after a value");
      }
    }
    skip_space();
    if (pos_ != text_.size())
      fail("unexpected text after the closing '}'");
    if (!have_descr)
      fail("the key 'descr' is missing");
    if (!have_order)
      fail("the key 'fortran_order' is missing");
    if (!have_shape)
      fail("the key 'shape' is missing");
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw MatrixFileError(fmt::format("{}: bad .npy header: {}", name_, why));
  }
  bool duplicate_check(bool seen, const std::string& key) const {
    if (seen)
      fail(fmt::format("the key '{}' appears twice", key));
    return true;
  }
  char peek() const noexcept { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() noexcept {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  void expect(char c) {
    skip_space();
    if (peek() != c)
      fail(fmt::format("expected '{}' at offset {}", c, pos_));
    ++pos_;
  }
  std::string parse_string(const char* what) {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"')
      fail(fmt::format("expected {} at offset {}", what, pos_));
    ++pos_;
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\')
        fail("escape sequences in strings are not supported");
      ++pos_;
    }
    if (pos_ >= text_.size())
      fail("unterminated string");
    return std::string(text_.substr(start, pos_++ - start));
  }
  bool parse_bool() {
    skip_space();
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("'fortran_order' must be True or False");
  }
  std::uint64_t parse_dimension() {
    skip_space();
    if (peek() < '0' || peek() > '9')
      fail("shape entries must be non-negative integers");
    std::uint64_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      const auto digit = static_cast<std::uint64_t>(peek() - '0');
      if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
        fail("a shape entry is too large");
      }
      value = value * 10 + digit;
      ++pos_;
    }
    if (peek() == 'L')
      ++pos_;  // Python 2 long literal, as old numpy wrote them
    return value;
  }
  std::vector<std::uint64_t> parse_shape() {
    expect('(');
    std::vector<std::uint64_t> shape;
    while (true) {
      skip_space();
      if (peek() == ')') {
        ++pos_;
        break;
      }
      if (shape.size() >= 32)
        fail("the shape has too many dimensions");
      shape.push_back(parse_dimension());
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != ')') {
        fail("expected ',' or ')' in the shape");
      }
    }
    return shape;
  }

  std::string_view text_;
  const std::string& name_;
  std::size_t pos_ = 0;
};

std::string shape_string(const std::vector<std::uint64_t>& shape) {
  if (shape.size() == 1)
    return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

Dtype parse_dtype(const std::string& descr, const std::string& name) {
  if (descr.find('O') != std::string::npos) {
    throw MatrixFileError(fmt::format("{}: object arrays (dtype '{}') are not supported", name,
                                      quote_excerpt(descr)));
  }
  const std::string_view type =
      descr.empty() ? std::string_view{} : std::string_view(descr).substr(1);
  const char order = descr.empty() ? '\0' : descr.front();
  std::optional<Dtype> dtype;
  if (order == '<' || order == '>') {
    if (type == "f8")
      dtype = Dtype::kF8;
    if (type == "f4")
      dtype = Dtype::kF4;
    if (type == "i8")
      dtype = Dtype::kI8;
    if (type == "i4")
      dtype = Dtype::kI4;
  }
  if (!dtype) {
    throw MatrixFileError(fmt::format("{}: unsupported dtype '{}' (supported: <f8, <f4, <i8, <i4)",
                                      name, quote_excerpt(descr)));
  }
  if (order == '>') {
    throw MatrixFileError(fmt::format(
        "{}: big-endian dtype '{}' is not supported (save it as little-endian: a.astype('<{}'))",
        name, descr, type));
  }
  return *dtype;
}

std::string index_string(std::size_t ndim, std::size_t i, std::size_t j) {
  return ndim == 1 ? fmt::format("[{}]", i) : fmt::format("[{}, {}]", i, j);
}

}  // namespace

bool has_npy_magic(std::span<const unsigned char> bytes) noexcept {
  return bytes.size() >= sizeof kMagic && std::memcmp(bytes.data(), kMagic, sizeof kMagic) == 0;
}

ArrayData parse_npy(std::span<const unsigned char> bytes, const std::string& name) {
  if (!has_npy_magic(bytes)) {
    throw MatrixFileError(
        fmt::format("{}: not a .npy file (bad magic; expected \"\\x93NUMPY\")", name));
  }
  if (bytes.size() < 10)
    throw MatrixFileError(fmt::format("{}: truncated .npy preamble", name));
  const unsigned major = bytes[6];
  const unsigned minor = bytes[7];
  std::size_t preamble = 0;
  std::uint64_t header_length = 0;
  if (major == 1 && minor == 0) {
    preamble = 10;
    header_length = load_le(bytes.data() + 8, 2);
  } else if ((major == 2 || major == 3) && minor == 0) {
    preamble = 12;
    if (bytes.size() < preamble) {
      throw MatrixFileError(fmt::format("{}: truncated .npy preamble", name));
    }
    header_length = load_le(bytes.data() + 8, 4);
  } else {
    throw MatrixFileError(
        fmt::format("{}: unsupported .npy format version {}.{} (supported: 1.0, 2.0, 3.0)", name,
                    major, minor));
  }
  if (header_length > kMaxHeaderBytes) {
    throw MatrixFileError(fmt::format("{}: .npy header length {} exceeds the limit of {} bytes",
                                      name, header_length, kMaxHeaderBytes));
  }
  if (header_length > bytes.size() - preamble) {
    throw MatrixFileError(fmt::format("{}: truncated .npy header ({} bytes announced, {} present)",
                                      name, header_length, bytes.size() - preamble));
  }
  const std::string_view header_text(reinterpret_cast<const char*>(bytes.data() + preamble),
                                     static_cast<std::size_t>(header_length));
  const Header header = HeaderParser(header_text, name).parse();
  const Dtype dtype = parse_dtype(header.descr, name);

  const auto& shape = header.shape;
  if (shape.empty()) {
    throw MatrixFileError(fmt::format("{}: 0-dimensional (scalar) arrays are not supported", name));
  }
  if (shape.size() > 2) {
    throw MatrixFileError(
        fmt::format("{}: {}-D array of shape {} is not supported (need 1-D or 2-D)", name,
                    shape.size(), shape_string(shape)));
  }
  const std::size_t item = item_size(dtype);
  const std::uint64_t limit = std::numeric_limits<std::size_t>::max() / item;
  std::uint64_t count = 1;
  for (const std::uint64_t dim : shape) {
    if (dim == 0) {
      throw MatrixFileError(
          fmt::format("{}: array of shape {} is empty", name, shape_string(shape)));
    }
    if (count > limit / dim) {
      throw MatrixFileError(
          fmt::format("{}: array of shape {} is too large", name, shape_string(shape)));
    }
    count *= dim;
  }
  const std::size_t data_offset = preamble + static_cast<std::size_t>(header_length);
  const std::size_t available = bytes.size() - data_offset;
  const std::size_t needed = static_cast<std::size_t>(count) * item;
  if (available < needed) {
    throw MatrixFileError(
        fmt::format("{}: truncated .npy data: shape {} of '{}' needs {} bytes, the file has {}",
                    name, shape_string(shape), header.descr, needed, available));
  }
  if (available > needed) {
    throw MatrixFileError(
        fmt::format("{}: {} unexpected bytes after the .npy data (shape {} of '{}' needs {} bytes)",
                    name, available - needed, shape_string(shape), header.descr, needed));
  }

  ArrayData data;
  data.source = Source::kNpy;
  data.ndim = shape.size();
  data.rows = static_cast<std::size_t>(shape[0]);
  data.cols = shape.size() == 2 ? static_cast<std::size_t>(shape[1]) : 1;
  data.values.resize(static_cast<std::size_t>(count));
  const unsigned char* const base = bytes.data() + data_offset;
  for (std::size_t k = 0; k < data.values.size(); ++k) {
    // File element k sits at logical (i, j); values are stored row-major.
    std::size_t i = 0;
    std::size_t j = 0;
    if (header.fortran_order) {
      i = k % data.rows;
      j = k / data.rows;
    } else {
      i = k / data.cols;
      j = k % data.cols;
    }
    const std::uint64_t raw = load_le(base + k * item, item);
    double value = 0.0;
    switch (dtype) {
      case Dtype::kF8:
        value = std::bit_cast<double>(raw);
        break;
      case Dtype::kF4:
        value = std::bit_cast<float>(static_cast<std::uint32_t>(raw));
        break;
      case Dtype::kI8: {
        const auto v = std::bit_cast<std::int64_t>(raw);
        if (v > kMaxExactInteger || v < -kMaxExactInteger) {
          throw MatrixFileError(
              fmt::format("{}: element {} = {} cannot be represented exactly as a double", name,
                          index_string(data.ndim, i, j), v));
        }
        value = static_cast<double>(v);
        break;
      }
      case Dtype::kI4:
        value = std::bit_cast<std::int32_t>(static_cast<std::uint32_t>(raw));
        break;
    }
    if (!std::isfinite(value)) {
      throw MatrixFileError(fmt::format("{}: element {} is not finite ({})", name,
                                        index_string(data.ndim, i, j), value));
    }
    data.values[i * data.cols + j] = value;
  }
  return data;
}

}  // namespace kelvin::tools::matrix_io::detail
