// "~" and "~/..." in a path given by a user, expanded to their home directory. The shell does not
// expand "~" inside a quoted URI ('tcp:host:7817?token_file=~/.kelvin-token', quoted because of
// '&'), so the client and kelvind do it themselves, the same way.
//
// Thread contract: a pure function; safe from any thread.
#pragma once

#include <string>

namespace kelvin::common {

// `path` with a leading "~" or "~/" replaced by `home` (pass std::getenv("HOME")); any other path,
// "~user/..." included, unchanged. Throws Error(kInvalidArgument) when the path needs `home` and
// it is null or empty.
std::string expand_home(const std::string& path, const char* home);

}  // namespace kelvin::common
