// The board server's authentication: a wrong or missing token is refused with a message that
// says what to fix, the right one is taken from a token file or KELVIN_TOKEN, and tokens compare
// equal only when identical.
#include "kelvin/tools/kelvind/auth.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "board_server_fixture.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/tools/kelvind/board_server.hpp"

namespace kelvin::tools::kelvind {
namespace {

TEST(BoardServer, WrongTokenIsPermissionDeniedWithAClearMessage) {
  auto options = two_boards();
  options.token = "correct horse battery staple";
  BoardServer server(options);
  server.start();
  const auto dir = std::filesystem::temp_directory_path();
  const auto wrong = dir / ("kelvind-wrong-" + std::to_string(::getpid()));
  const auto right = dir / ("kelvind-right-" + std::to_string(::getpid()));
  std::ofstream(wrong) << "tr0ub4dor\n";
  std::ofstream(right) << "  correct horse battery staple\n";
  ::unsetenv("KELVIN_TOKEN");

  const auto message = message_of(
      [&] { driver::backends::open(server.listening_address() + "?token_file=" + wrong.string()); },
      ErrorKind::kPermissionDenied);
  EXPECT_NE(message.find("refused the token"), std::string::npos) << message;
  EXPECT_NE(message.find("KELVIN_TOKEN"), std::string::npos) << message;
  message_of([&] { driver::backends::open(server.listening_address()); },
             ErrorKind::kPermissionDenied);

  ResonatorBoard ok(
      driver::backends::open(server.listening_address() + "?token_file=" + right.string()));
  ::setenv("KELVIN_TOKEN", "correct horse battery staple", 1);
  ResonatorBoard from_env(driver::backends::open(server.listening_address() + "?board=1"));
  ::unsetenv("KELVIN_TOKEN");
  EXPECT_EQ(server.stats().refused_token, 2u);
  std::filesystem::remove(wrong);
  std::filesystem::remove(right);
}

TEST(Tokens, CompareEqualOnlyWhenIdentical) {
  EXPECT_TRUE(tokens_equal("abc", "abc"));
  EXPECT_FALSE(tokens_equal("abc", "abd"));
  EXPECT_FALSE(tokens_equal("abc", "ab"));
  EXPECT_FALSE(tokens_equal("abc", "abcd"));
  EXPECT_FALSE(tokens_equal("abc", ""));
  EXPECT_TRUE(tokens_equal("", ""));
}

}  // namespace
}  // namespace kelvin::tools::kelvind
