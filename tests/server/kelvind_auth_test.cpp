// kelvind's token settings end to end (the real binary): it takes its token from KELVIN_TOKEN,
// the variable the clients read (KELVIND_TOKEN only as a deprecated alias), refuses to serve a
// network address without one unless --no-auth says so, still serves loopback without one, and
// expands ~ in --token-file.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/testing/errors.hpp"
#include "kelvind_process.hpp"

namespace kelvin::tools::kelvind {
namespace {

using namespace std::chrono_literals;
using common::ErrorKind;
using kelvin::testing::message_of;
using testing::EnvChanges;
using testing::Kelvind;
using testing::read_text;

constexpr const char* kDevice = "sim:resonator?cells=4&seed=3";

// A fresh directory for one test (its kelvind's stderr, token files, a HOME), removed after.
class KelvindAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("kelvind-auth-" + std::to_string(::getpid()) + "-" + test->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ::unsetenv("KELVIN_TOKEN");  // this process is the client: it starts with no token
  }
  void TearDown() override {
    ::unsetenv("KELVIN_TOKEN");
    std::filesystem::remove_all(dir_);
  }

  std::string log_path() const { return (dir_ / "kelvind.log").string(); }

  // kelvind on `listen` with `extra` arguments and `env`, logging to log_path().
  std::unique_ptr<Kelvind> start(const std::string& listen, std::vector<std::string> extra = {},
                                 const EnvChanges& env = {}) {
    std::vector<std::string> args = {"--listen", listen, "--device", kDevice};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Kelvind>(args, env, log_path());
  }

  // The address from kelvind's first stdout line ("" if it printed none).
  static std::string address_of(Kelvind& server) {
    const std::string line = server.first_line(10s);
    const std::string prefix = "listening ";
    return line.rfind(prefix, 0) == 0 ? line.substr(prefix.size()) : std::string();
  }

  std::filesystem::path dir_;
};

// The defect: kelvind read only KELVIND_TOKEN, so `KELVIN_TOKEN=secret kelvind ...` served
// everyone.
TEST_F(KelvindAuth, StartedWithOnlyKelvinTokenRequiresThatToken) {
  auto server = start("tcp:127.0.0.1:0", {}, {{"KELVIN_TOKEN", "secret"}});
  const std::string uri = address_of(*server);
  ASSERT_FALSE(uri.empty()) << read_text(log_path());

  const auto message =
      message_of([&] { driver::backends::open(uri); }, ErrorKind::kPermissionDenied);
  EXPECT_NE(message.find("refused the token"), std::string::npos) << message;
  ::setenv("KELVIN_TOKEN", "secret", 1);
  driver::ResonatorBoard board(driver::backends::open(uri));
  EXPECT_EQ(board.cells(), 4u);
  EXPECT_EQ(server->terminate(5s), std::optional<int>(0));
  EXPECT_NE(read_text(log_path()).find("clients must send the token"), std::string::npos)
      << read_text(log_path());
}

TEST_F(KelvindAuth, RefusesANetworkAddressWithoutATokenNamingTheFix) {
  auto server = start("tcp:0.0.0.0:0");
  EXPECT_EQ(address_of(*server), "");
  EXPECT_EQ(server->wait(10s), std::optional<int>(1));
  const std::string log = read_text(log_path());
  EXPECT_NE(log.find("kelvind: error: refusing to listen at tcp:0.0.0.0:0 without a token"),
            std::string::npos)
      << log;
  for (const char* fix : {"KELVIN_TOKEN", "--token-file", "--no-auth"})
    EXPECT_NE(log.find(fix), std::string::npos) << fix << " missing from: " << log;
}

TEST_F(KelvindAuth, ServesANetworkAddressWithoutATokenUnderNoAuthAndWarns) {
  auto server = start("tcp:0.0.0.0:0", {"--no-auth"});
  const std::string uri = address_of(*server);
  ASSERT_EQ(uri.rfind("tcp:0.0.0.0:", 0), 0u) << uri << read_text(log_path());
  const std::string port = uri.substr(uri.rfind(':') + 1);
  driver::ResonatorBoard board(driver::backends::open("tcp:127.0.0.1:" + port));
  EXPECT_EQ(board.cells(), 4u);
  EXPECT_EQ(server->terminate(5s), std::optional<int>(0));
  // At the default log level: nobody passed --log-level.
  const std::string log = read_text(log_path());
  EXPECT_NE(log.find("[warning] kelvin.server: serving tcp:0.0.0.0:0 WITHOUT authentication"),
            std::string::npos)
      << log;
}

TEST_F(KelvindAuth, NoAuthAndATokenTogetherAreRefused) {
  auto server = start("tcp:0.0.0.0:0", {"--no-auth"}, {{"KELVIN_TOKEN", "secret"}});
  EXPECT_EQ(server->wait(10s), std::optional<int>(1));
  EXPECT_NE(read_text(log_path()).find("--no-auth contradicts the token"), std::string::npos)
      << read_text(log_path());
}

TEST_F(KelvindAuth, ServesLoopbackWithoutATokenAndSaysSo) {
  auto server = start("tcp:127.0.0.1:0");
  const std::string uri = address_of(*server);
  ASSERT_FALSE(uri.empty()) << read_text(log_path());
  driver::ResonatorBoard board(driver::backends::open(uri));
  EXPECT_EQ(server->terminate(5s), std::optional<int>(0));
  EXPECT_NE(read_text(log_path())
                .find("[info] kelvin.server: listening at " + uri +
                      " with 1 board(s), no token required"),
            std::string::npos)
      << read_text(log_path());
}

TEST_F(KelvindAuth, DeprecatedKelvindTokenStillProtectsTheServerWithAWarning) {
  auto server = start("tcp:127.0.0.1:0", {}, {{"KELVIND_TOKEN", "old"}});
  const std::string uri = address_of(*server);
  ASSERT_FALSE(uri.empty()) << read_text(log_path());
  message_of([&] { driver::backends::open(uri); }, ErrorKind::kPermissionDenied);
  ::setenv("KELVIN_TOKEN", "old", 1);
  driver::ResonatorBoard board(driver::backends::open(uri));
  EXPECT_EQ(server->terminate(5s), std::optional<int>(0));
  EXPECT_NE(read_text(log_path()).find("KELVIND_TOKEN is deprecated: set KELVIN_TOKEN instead"),
            std::string::npos)
      << read_text(log_path());
}

TEST_F(KelvindAuth, RefusesToStartWhenKelvinTokenAndKelvindTokenDiffer) {
  auto server = start("tcp:127.0.0.1:0", {}, {{"KELVIN_TOKEN", "new"}, {"KELVIND_TOKEN", "old"}});
  EXPECT_EQ(address_of(*server), "");
  EXPECT_EQ(server->wait(10s), std::optional<int>(1));
  EXPECT_NE(read_text(log_path()).find("KELVIN_TOKEN and KELVIND_TOKEN are both set and differ"),
            std::string::npos)
      << read_text(log_path());
}

// `--token-file ~/x` reaches kelvind unexpanded when quoted or written --token-file=~/x; the
// client's token_file=~/x is never expanded by a shell. Both are $HOME/x.
TEST_F(KelvindAuth, TildeInTokenFileIsHomeOnBothSides) {
  std::ofstream(dir_ / "token") << "from-home\n";
  auto server = start("tcp:127.0.0.1:0", {"--token-file", "~/token"}, {{"HOME", dir_.string()}});
  const std::string uri = address_of(*server);
  ASSERT_FALSE(uri.empty()) << read_text(log_path());
  message_of([&] { driver::backends::open(uri); }, ErrorKind::kPermissionDenied);

  const char* home = std::getenv("HOME");
  const std::optional<std::string> saved = home ? std::optional<std::string>(home) : std::nullopt;
  ::setenv("HOME", dir_.string().c_str(), 1);
  std::optional<driver::ResonatorBoard> board;
  EXPECT_NO_THROW(board.emplace(driver::backends::open(uri + "?token_file=~/token")));
  const auto missing = message_of([&] { driver::backends::open(uri + "?token_file=~/nope"); },
                                  ErrorKind::kInvalidArgument);
  if (saved)
    ::setenv("HOME", saved->c_str(), 1);
  else
    ::unsetenv("HOME");
  EXPECT_NE(missing.find("cannot read token_file '" + (dir_ / "nope").string() + "'"),
            std::string::npos)
      << missing;
  board.reset();
  EXPECT_EQ(server->terminate(5s), std::optional<int>(0));

  // kelvind's own error names the expanded path too.
  auto bad = start("tcp:127.0.0.1:0", {"--token-file=~/nope"}, {{"HOME", dir_.string()}});
  EXPECT_EQ(bad->wait(10s), std::optional<int>(1));
  EXPECT_NE(read_text(log_path()).find("cannot read the token file '" + (dir_ / "nope").string()),
            std::string::npos)
      << read_text(log_path());
}

}  // namespace
}  // namespace kelvin::tools::kelvind
