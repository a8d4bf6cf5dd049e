// Token checks for the board server, and where kelvind's token comes from.
//
// Thread contract: pure functions, safe from any thread (server_token() also logs, through a
// thread-safe spdlog logger; none of them reads the environment: callers pass it in).
#pragma once

#include <string>
#include <string_view>

namespace kelvin::tools::kelvind {

// The one environment variable holding the token, read by kelvind and by the tcp:/unix: clients
// alike, so that the setting that lets a client in is also the one that locks the server.
inline constexpr const char* kTokenVariable = "KELVIN_TOKEN";
// kelvind's former variable: still honoured (with a warning) so that existing set-ups keep
// their protection instead of silently serving without a token.
inline constexpr const char* kDeprecatedTokenVariable = "KELVIND_TOKEN";

// Compares in time that depends only on the lengths, never on where the strings first differ,
// so that a client cannot find the token byte by byte from response times.
bool tokens_equal(std::string_view expected, std::string_view given) noexcept;

// The first line of a token file with surrounding whitespace removed; a leading ~ is expanded
// with `home` (common::expand_home). Throws Error (kInvalidArgument), naming the expanded path, if
// the file cannot be read or holds no token.
std::string read_token_file(const std::string& path, const char* home);

// The token kelvind requires: read from `token_file` when one is given (it wins over the
// environment), else the value of KELVIN_TOKEN, else that of the deprecated KELVIND_TOKEN
// (logged as a warning); else empty (no token). The variables' values are passed in (null:
// unset; an empty value counts as unset). Throws Error (kInvalidArgument) if both variables
// are set and differ, since either choice would surprise someone.
std::string server_token(const std::string& token_file, const char* kelvin_token,
                         const char* kelvind_token, const char* home);

}  // namespace kelvin::tools::kelvind
