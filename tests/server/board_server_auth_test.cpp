// The board server's authentication: a wrong or missing token is refused with a message that
// says what to fix, the right one is taken from a token file or KELVIN_TOKEN, and tokens compare
// equal only when identical. A server without a token is not reachable from the network unless
// allowed explicitly; kelvind's token comes from the same KELVIN_TOKEN; ~ in a token file is
// $HOME. (The server library reads no environment: kelvind's main passes it to server_token(),
// so the tests here that set KELVIN_TOKEN for the client do not change the server's token.)
#include "kelvin/tools/kelvind/auth.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "board_server_fixture.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/home_path.hpp"
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

// Without a token, an address other machines reach is refused, with the way out in the message;
// a token or allow_remote_without_token lets it serve.
TEST(BoardServer, RefusesNonLoopbackListenWithoutAToken) {
  // 192.0.2.1 (TEST-NET-1) belongs to no machine: the refusal must come before any bind.
  for (const char* listen : {"tcp:0.0.0.0:0", "tcp:[::]:0", "tcp:192.0.2.1:7817"}) {
    auto options = two_boards();
    options.listen = listen;
    const auto message =
        message_of([&] { BoardServer server(options); }, ErrorKind::kInvalidArgument);
    EXPECT_NE(message.find(std::string("refusing to listen at ") + listen + " without a token"),
              std::string::npos)
        << message;
    for (const char* fix : {"KELVIN_TOKEN", "--token-file", "--no-auth"})
      EXPECT_NE(message.find(fix), std::string::npos) << fix << " missing from: " << message;
  }

  auto with_token = two_boards();
  with_token.listen = "tcp:0.0.0.0:0";
  with_token.token = "s3cret";
  BoardServer locked(with_token);
  EXPECT_EQ(locked.listening_address().rfind("tcp:0.0.0.0:", 0), 0u);

  auto allowed = two_boards();
  allowed.listen = "tcp:0.0.0.0:0";
  allowed.allow_remote_without_token = true;
  BoardServer open_server(allowed);
  open_server.start();
  const auto address = open_server.listening_address();
  ::unsetenv("KELVIN_TOKEN");
  ResonatorBoard board(
      driver::backends::open("tcp:127.0.0.1:" + address.substr(address.rfind(':') + 1)));
  EXPECT_EQ(open_server.stats().leases, 1u);
}

TEST(BoardServer, ServesLoopbackAndUnixSocketsWithoutAToken) {
  const auto socket = std::filesystem::temp_directory_path() /
                      ("kelvind-auth-" + std::to_string(::getpid()) + ".sock");
  for (const std::string& listen : std::vector<std::string>{
           "tcp:127.0.0.1:0", "tcp:127.3.2.1:0", "tcp:localhost:0", "unix:" + socket.string()}) {
    auto options = two_boards();
    options.listen = listen;
    try {
      BoardServer server(options);
      server.start();
      ::unsetenv("KELVIN_TOKEN");
      ResonatorBoard board(driver::backends::open(server.listening_address()));
      EXPECT_EQ(server.stats().leases, 1u) << listen;
    } catch (const Error& e) {
      ADD_FAILURE() << listen << ": " << e.what();
    }
  }
}

TEST(ServerToken, KelvinTokenIsTheServersTokenAndATokenFileWins) {
  EXPECT_EQ(server_token("", "from-env", nullptr, "/home/x"), "from-env");
  EXPECT_EQ(server_token("", nullptr, nullptr, "/home/x"), "");
  EXPECT_EQ(server_token("", "", nullptr, "/home/x"), "");  // set but empty: no token
  const auto file =
      std::filesystem::temp_directory_path() / ("kelvind-token-" + std::to_string(::getpid()));
  std::ofstream(file) << "from-file\n";
  EXPECT_EQ(server_token(file.string(), "from-env", "other", "/home/x"), "from-file");
  std::filesystem::remove(file);
}

TEST(ServerToken, DeprecatedKelvindTokenStillWorksAndADifferingPairIsRefused) {
  EXPECT_EQ(server_token("", nullptr, "old", "/home/x"), "old");
  EXPECT_EQ(server_token("", "same", "same", "/home/x"), "same");
  EXPECT_EQ(server_token("", "", "old", "/home/x"), "old");
  const auto message = message_of([] { (void)server_token("", "new", "old", "/home/x"); },
                                  ErrorKind::kInvalidArgument);
  EXPECT_NE(message.find("KELVIN_TOKEN and KELVIND_TOKEN are both set and differ"),
            std::string::npos)
      << message;
}

TEST(TokenFile, TildeIsHomeAndErrorsNameTheExpandedPath) {
  const auto home =
      std::filesystem::temp_directory_path() / ("kelvind-home-" + std::to_string(::getpid()));
  std::filesystem::create_directories(home);
  std::ofstream(home / "tok") << "  t0ken \n";
  EXPECT_EQ(read_token_file("~/tok", home.c_str()), "t0ken");
  EXPECT_EQ(read_token_file("~/tok", (home.string() + "/").c_str()), "t0ken");
  EXPECT_EQ(common::expand_home("~", "/home/ann"), "/home/ann");
  EXPECT_EQ(common::expand_home("~ann/x", "/home/bob"), "~ann/x");  // ~user is not ours to guess
  EXPECT_EQ(common::expand_home("/etc/~/x", "/home/bob"), "/etc/~/x");
  const auto missing = message_of([&] { (void)read_token_file("~/nope", home.c_str()); },
                                  ErrorKind::kInvalidArgument);
  EXPECT_NE(missing.find("'" + (home / "nope").string() + "'"), std::string::npos) << missing;
  const auto no_home =
      message_of([] { (void)common::expand_home("~/x", nullptr); }, ErrorKind::kInvalidArgument);
  EXPECT_NE(no_home.find("HOME is not set"), std::string::npos) << no_home;
  std::filesystem::remove_all(home);
}

// The client's token_file=~/x: the documented 'tcp:...?token_file=~/.kelvin-token' is quoted, so
// no shell expands it.
TEST(BoardServer, ClientTokenFileTildeIsHome) {
  auto options = two_boards();
  options.token = "home-made";
  BoardServer server(options);
  server.start();
  const auto home = std::filesystem::temp_directory_path() /
                    ("kelvind-client-home-" + std::to_string(::getpid()));
  std::filesystem::create_directories(home);
  std::ofstream(home / "tok") << "home-made\n";
  const char* old = std::getenv("HOME");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("HOME", home.c_str(), 1);
  ::unsetenv("KELVIN_TOKEN");
  std::string missing;
  try {
    ResonatorBoard board(driver::backends::open(server.listening_address() + "?token_file=~/tok"));
    missing = message_of(
        [&] { driver::backends::open(server.listening_address() + "?board=1&token_file=~/nope"); },
        ErrorKind::kInvalidArgument);
  } catch (const Error& e) {
    ADD_FAILURE() << e.what();
  }
  if (old != nullptr)
    ::setenv("HOME", saved.c_str(), 1);
  else
    ::unsetenv("HOME");
  EXPECT_NE(missing.find("cannot read token_file '" + (home / "nope").string() + "'"),
            std::string::npos)
      << missing;
  EXPECT_EQ(server.stats().leases, 1u);
  std::filesystem::remove_all(home);
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
