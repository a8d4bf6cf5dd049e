// kelvind: serves boards to remote kelvin clients. All logic is in kelvin_tools_kelvind
// (board_server.hpp); this file parses the command line, sets up logging and prints.
//
//   kelvind --listen tcp:127.0.0.1:0 --device sim:resonator?cells=8&seed=1 [--device URI ...]
//           [--token-file F | --no-auth] [--max-clients N] [--max-frame-bytes B] [--log-level L]
//
// The token comes from --token-file, else $KELVIN_TOKEN (the variable the clients read), else
// the deprecated $KELVIND_TOKEN. Without one, only loopback and unix: addresses are served
// unless --no-auth is given (BoardServer refuses and says so).
//
// The first line on stdout is the address clients use ("listening tcp:127.0.0.1:40123"),
// flushed at once so that scripts can read the real port. Exit 0 after SIGINT/SIGTERM, 1 on a
// start-up failure, 2 on a usage error.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/tools/kelvind/auth.hpp"
#include "kelvin/tools/kelvind/board_server.hpp"

namespace {

void print_error(const std::string& reason) {
  std::fprintf(stderr, "kelvind: error: %s\n", reason.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  // Library loggers copy the default logger's sinks on first use, so this comes first.
  auto logger = spdlog::stderr_color_mt("kelvind");
  logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %n: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::info);

  CLI::App app{"kelvind: serves kelvin boards to remote clients (tcp: and unix: URIs).", "kelvind"};
  kelvin::tools::kelvind::ServerOptions options;
  std::string token_file;
  std::string log_level = "info";
  app.add_option("--listen", options.listen, "tcp:HOST:PORT (port 0: any free port) or unix:/path")
      ->capture_default_str();
  app.add_option("--device", options.devices, "A board to serve (driver URI); repeat for more")
      ->required();
  app.add_option("--token-file", token_file,
                 "File whose first line is the token clients must send (~ is $HOME); wins over "
                 "$KELVIN_TOKEN, the variable clients read too ($KELVIND_TOKEN: deprecated "
                 "alias). No token: only loopback and unix: addresses are served");
  app.add_flag("--no-auth", options.allow_remote_without_token,
               "Serve a non-loopback TCP address without a token: anyone who can reach it gets "
               "the boards (a warning is logged)");
  app.add_option("--max-clients", options.max_clients, "Connections served at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--max-frame-bytes", options.max_frame_bytes,
                 "Largest frame payload accepted from a client")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "Log verbosity on stderr")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  app.footer(
      fmt::format("Device addresses (--device):\n  {}\n", kelvin::driver::backends::uri_help()));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    print_error(fmt::format("{} (see 'kelvind --help')", e.what()));
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));

  try {
    namespace kd = kelvin::tools::kelvind;
    options.token =
        kd::server_token(token_file, std::getenv(kd::kTokenVariable),
                         std::getenv(kd::kDeprecatedTokenVariable), std::getenv("HOME"));
    if (options.allow_remote_without_token && !options.token.empty()) {
      // Which one was meant is a guess either way; the user would believe the wrong one.
      throw std::runtime_error(fmt::format(
          "--no-auth contradicts the token set by {}: drop --no-auth or unset the token",
          token_file.empty() ? "$KELVIN_TOKEN (or $KELVIND_TOKEN)" : "--token-file"));
    }
    options.stop_on_signals = true;
    kelvin::tools::kelvind::BoardServer server(std::move(options));
    std::printf("listening %s\n", server.listening_address().c_str());
    std::fflush(stdout);
    server.run();
  } catch (const std::exception& e) {
    print_error(e.what());
    return 1;
  }
  return 0;
}
