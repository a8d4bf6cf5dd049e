#include "ebm_data_file.hpp"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

namespace kelvin::tools::cli {
namespace {

bool is_separator(char c) {
  return c == ' ' || c == '\t' || c == ',' || c == '\r';
}

std::vector<std::string_view> tokens_of(std::string_view line) {
  std::vector<std::string_view> tokens;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_separator(line[i]))
      ++i;
    const std::size_t start = i;
    while (i < line.size() && !is_separator(line[i]))
      ++i;
    if (i > start)
      tokens.push_back(line.substr(start, i - start));
  }
  return tokens;
}

// A token shown in a message: at most 20 characters.
std::string excerpt(std::string_view token) {
  return token.size() <= 20 ? std::string(token) : std::string(token.substr(0, 20)) + "...";
}

}  // namespace

EbmData read_ebm_data(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(fmt::format("cannot read data file '{}'", path));
  EbmData data;
  std::size_t first_line = 0;
  std::size_t number = 0;
  for (std::string text; std::getline(in, text);) {
    ++number;
    const auto fail = [&](const std::string& what) {
      return std::runtime_error(fmt::format("{}:{}: {}", path, number, what));
    };
    std::string_view line(text);
    line = line.substr(0, line.find('#'));
    const std::vector<std::string_view> tokens = tokens_of(line);
    if (tokens.empty())
      continue;
    std::vector<int> example;
    std::string encoding;
    const bool word = tokens.size() == 1 && tokens[0].size() > 1 &&
                      tokens[0].find_first_not_of("01") == std::string_view::npos;
    if (word) {
      encoding = "0/1";
      for (const char c : tokens[0])
        example.push_back(c == '1' ? 1 : -1);
    } else {
      for (const std::string_view t : tokens) {
        if (t == "0") {
          encoding = encoding == "+-1" ? "mixed" : "0/1";
          example.push_back(-1);
        } else if (t == "-1") {
          encoding = encoding == "0/1" ? "mixed" : "+-1";
          example.push_back(-1);
        } else if (t == "1" || t == "+1") {
          example.push_back(1);
        } else {
          throw fail(fmt::format("'{}' is not a binary value (0/1 or -1/+1)", excerpt(t)));
        }
        if (encoding == "mixed")
          throw fail("mixes 0 and -1: write 0/1 or -1/+1");
      }
    }
    if (!encoding.empty()) {
      if (data.encoding.empty()) {
        data.encoding = encoding;
      } else if (data.encoding != encoding) {
        throw fail(
            fmt::format("uses {} values, but the lines before use {}", encoding, data.encoding));
      }
    }
    if (!data.examples.empty() && example.size() != data.width()) {
      throw fail(
          fmt::format("{} values, but line {} has {}", example.size(), first_line, data.width()));
    }
    if (data.examples.empty())
      first_line = number;
    data.examples.push_back(std::move(example));
  }
  if (in.bad())
    throw std::runtime_error(fmt::format("cannot read data file '{}'", path));
  if (data.examples.empty())
    throw std::runtime_error(fmt::format("{}: no examples (one per line of 0/1 values)", path));
  if (data.encoding.empty())
    data.encoding = "0/1";  // only 1s: either encoding
  return data;
}

std::vector<std::size_t> minibatch_indices(std::size_t examples, std::uint64_t step,
                                           std::size_t count, std::uint64_t seed) {
  std::vector<std::size_t> out;
  out.reserve(count);
  std::uint64_t epoch = ~std::uint64_t{0};
  std::vector<std::size_t> order(examples);
  for (std::size_t k = 0; k < count; ++k) {
    const std::uint64_t position = step * count + k;
    if (position / examples != epoch) {
      epoch = position / examples;
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                        static_cast<std::uint32_t>(epoch), static_cast<std::uint32_t>(epoch >> 32)};
      std::mt19937_64 rng(seq);
      std::shuffle(order.begin(), order.end(), rng);
    }
    out.push_back(order[position % examples]);
  }
  return out;
}

std::string format_samples(const std::vector<std::vector<int>>& samples) {
  std::string out;
  for (const auto& sample : samples) {
    for (std::size_t k = 0; k < sample.size(); ++k) {
      out += sample[k] > 0 ? '1' : '0';
      out += k + 1 < sample.size() ? ' ' : '\n';
    }
  }
  return out;
}

}  // namespace kelvin::tools::cli
