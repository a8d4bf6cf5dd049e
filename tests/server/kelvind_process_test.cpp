// The real kelvind binary end to end: started as a child process on port 0, it prints its
// address first; the kelvin CLI probes and finds boards through it; SIGTERM ends it with exit
// code 0; SIGKILL in the middle of a stream fails the client cleanly.
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/resonator/sample_stream.hpp"
#include "kelvind_process.hpp"

namespace kelvin::tools::kelvind {
namespace {

using namespace std::chrono_literals;

using testing::Kelvind;

struct Run {
  int exit_code = -1;
  std::string out;
};

// Runs the kelvin CLI through the shell, with `env` ("NAME=value ...") in front of it.
Run run_kelvin(const std::string& args, const std::string& env = "") {
  Run run;
  FILE* pipe = ::popen((env + " " + std::string(KELVIN_CLI_PATH) + " " + args).c_str(), "r");
  if (pipe == nullptr)
    return run;
  char buffer[4096];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
    run.out.append(buffer, got);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

TEST(Kelvind, PrintsItsAddressServesTheCliAndExitsCleanlyOnSigterm) {
  Kelvind server({"--listen", "tcp:127.0.0.1:0", "--device", "sim:resonator?cells=4&seed=3",
                  "--log-level", "warn"});
  const std::string line = server.first_line(10s);
  const std::string prefix = "listening tcp:127.0.0.1:";
  ASSERT_EQ(line.rfind(prefix, 0), 0u) << "first stdout line: '" << line << "'";
  const std::string uri = line.substr(std::string("listening ").size());
  EXPECT_NE(uri, "tcp:127.0.0.1:0");

  const auto probe = run_kelvin("probe --uri " + uri + " --json");
  ASSERT_EQ(probe.exit_code, 0) << probe.out;
  const auto json = nlohmann::json::parse(probe.out);
  EXPECT_EQ(json.at("cells"), 4);
  EXPECT_EQ(json.at("serial"), "SIM-RES-4-3");

  // The lease was released when the CLI exited: a second run attaches again.
  const auto again = run_kelvin("probe --uri '" + uri + "?board=0' --json 2>/dev/null");
  EXPECT_EQ(again.exit_code, 0);

  EXPECT_EQ(server.terminate(5s), std::optional<int>(0));
}

// The server dies (SIGKILL) in the middle of a stream: the reader blocked in recv() fails with
// kDisconnected well within its deadline, every later call says the same, and the process goes
// on working (a new board streams).
TEST(Kelvind, KillingTheServerMidStreamFailsTheReaderWithDisconnectedWithinItsDeadline) {
  Kelvind server({"--listen", "tcp:127.0.0.1:0", "--device", "sim:resonator?cells=4&seed=3",
                  "--log-level", "warn"});
  const std::string line = server.first_line(10s);
  ASSERT_EQ(line.rfind("listening tcp:", 0), 0u) << line;
  const std::string uri = line.substr(std::string("listening ").size());

  const auto program = [](driver::ResonatorBoard& board) {
    driver::SymmetricCodes a(4);
    for (std::uint32_t i = 0; i < 4; ++i)
      a.set(i, i, 9830);
    board.program_couplings(a, common::Deadline::after(5s));
  };
  driver::ResonatorBoard remote(driver::backends::open(uri));
  program(remote);
  driver::StreamOptions options;
  options.reply_timeout = 2s;
  driver::SampleStream stream(remote, options, common::Deadline::after(5s));
  std::uint64_t received = 0;
  for (int k = 0; k < 5; ++k)
    received += stream.recv(common::Deadline::after(5s)).metadata.sample_count;
  EXPECT_GT(received, 0u);

  std::thread killer([&] {
    std::this_thread::sleep_for(100ms);
    server.kill_now();
  });
  const auto deadline = common::Deadline::after(10s);
  const auto before = std::chrono::steady_clock::now();
  std::optional<common::ErrorKind> kind;
  try {
    while (!deadline.expired())
      (void)stream.recv(deadline);  // streams until the server is gone
  } catch (const common::Error& e) {
    kind = e.kind();
  }
  const auto waited = std::chrono::steady_clock::now() - before;
  killer.join();
  EXPECT_EQ(kind, std::optional(common::ErrorKind::kDisconnected));
  // The kill comes after 100 ms; the reader must notice within a reply timeout or so, not wait
  // out its 10 s deadline.
  EXPECT_LT(waited, 3s);
  try {
    (void)stream.recv(common::Deadline::after(1s));
    ADD_FAILURE() << "a stream on a dead server delivered";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.kind(), common::ErrorKind::kDisconnected) << e.what();
  }

  driver::ResonatorBoard local(driver::backends::open("sim:resonator?cells=4&seed=3"));
  program(local);
  driver::SampleStream fresh(local, options, common::Deadline::after(5s));
  EXPECT_GT(fresh.recv(common::Deadline::after(5s)).metadata.sample_count +
                fresh.recv(common::Deadline::after(5s)).metadata.sample_count,
            0u);
}

// `kelvin find` lists the boards of the servers named in KELVIN_REMOTES next to the emulated
// ones, and skips a server that does not answer.
TEST(Kelvind, FindListsTheBoardsOfConfiguredRemotes) {
  Kelvind server({"--listen", "tcp:127.0.0.1:0", "--device", "sim:resonator?cells=4&seed=3",
                  "--device", "sim:pbit?rows=8&cols=8", "--log-level", "warn"});
  const std::string line = server.first_line(10s);
  ASSERT_EQ(line.rfind("listening tcp:", 0), 0u) << line;
  const std::string uri = line.substr(std::string("listening ").size());

  // Port 1 on loopback refuses connections: a dead server in the list.
  const auto found = run_kelvin("find --json", "KELVIN_REMOTES='" + uri + ",tcp:127.0.0.1:1'");
  ASSERT_EQ(found.exit_code, 0) << found.out;
  const auto devices = nlohmann::json::parse(found.out).at("devices");
  std::vector<std::string> remote;
  bool sim_listed = false;
  for (const auto& d : devices) {
    const auto address = d.get<std::string>();
    if (address.rfind("tcp:", 0) == 0)
      remote.push_back(address);
    sim_listed = sim_listed || address.rfind("sim:", 0) == 0;
  }
  EXPECT_TRUE(sim_listed) << found.out;
  EXPECT_EQ(remote, (std::vector<std::string>{uri + "?board=0", uri + "?board=1"})) << found.out;

  // Listing leased nothing: the second board opens.
  const auto probe = run_kelvin("probe --uri '" + uri + "?board=1' --json");
  ASSERT_EQ(probe.exit_code, 0) << probe.out;
  EXPECT_EQ(nlohmann::json::parse(probe.out).at("family"), "pbit");
  EXPECT_EQ(server.terminate(5s), std::optional<int>(0));
}

TEST(Kelvind, RefusesABadDeviceAtStartWithExitCode1) {
  const std::string command =
      std::string(KELVIND_PATH) + " --listen tcp:127.0.0.1:0 --device sim:toaster 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buffer[4096];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
    out.append(buffer, got);
  const int status = ::pclose(pipe);
  EXPECT_EQ(WEXITSTATUS(status), 1) << out;
  EXPECT_NE(out.find("kelvind: error: device 0 (sim:toaster)"), std::string::npos) << out;
}

}  // namespace
}  // namespace kelvin::tools::kelvind
