// Token checks for the board server.
//
// Thread contract: pure functions, safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace kelvin::tools::kelvind {

// Compares in time that depends only on the lengths, never on where the strings first differ,
// so that a client cannot find the token byte by byte from response times.
bool tokens_equal(std::string_view expected, std::string_view given) noexcept;

// The first line of a token file with surrounding whitespace removed. Throws Error
// (kInvalidArgument) if the file cannot be read or holds no token.
std::string read_token_file(const std::string& path);

}  // namespace kelvin::tools::kelvind
