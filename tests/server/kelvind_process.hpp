// The kelvind binary as a child process, for the tests that run it end to end
// (kelvind_*_test.cpp): its stdout on a pipe (the first line is its address), its stderr (the
// logs) inherited or captured in a file, its environment inherited or changed per variable.
// KELVIN_TOKEN and KELVIND_TOKEN are not inherited (kelvind reads them: a token exported in the
// shell running the tests would change what the tests see); a test that wants one sets it.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace kelvin::tools::kelvind::testing {

// Variable name -> value; nullopt removes the variable from the child's environment.
using EnvChanges = std::map<std::string, std::optional<std::string>>;

class Kelvind {
 public:
  // `stderr_path` empty: stderr is inherited; otherwise it is written to that file.
  explicit Kelvind(const std::vector<std::string>& args, const EnvChanges& env = {},
                   const std::string& stderr_path = "") {
    int fds[2];
    if (::pipe(fds) != 0)
      throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    if (!stderr_path.empty()) {
      posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0600);
    }
    std::vector<std::string> all = {KELVIND_PATH};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> environment = environment_with(env);
    std::vector<char*> envp;
    for (auto& e : environment)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, KELVIND_PATH, &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = fds[0];
    if (rc != 0)
      throw std::runtime_error("cannot start " + std::string(KELVIND_PATH));
  }

  ~Kelvind() {
    if (pid_ > 0 && !exit_code_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
  }

  Kelvind(const Kelvind&) = delete;
  Kelvind& operator=(const Kelvind&) = delete;

  // The first line on stdout, waiting at most `budget` ("" if kelvind exited without one).
  std::string first_line(std::chrono::milliseconds budget) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + budget;
    while (line.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{out_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        return line;
      char c = 0;
      if (::read(out_, &c, 1) != 1)
        return line;
      line += c;
    }
    line.pop_back();
    return line;
  }

  // SIGKILL: the server vanishes without a word to its clients, as after a crash.
  void kill_now() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_code_ = -1;
  }

  // Waits (polling) for kelvind to exit on its own; its exit code, or nullopt if it did not
  // exit in `budget` or died from a signal.
  std::optional<int> wait(std::chrono::milliseconds budget) {
    const auto deadline = std::chrono::steady_clock::now() + budget;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return WIFEXITED(status) ? std::optional<int>(WEXITSTATUS(status)) : std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
  }

  // Sends SIGTERM and waits as wait() does.
  std::optional<int> terminate(std::chrono::milliseconds budget) {
    ::kill(pid_, SIGTERM);
    return wait(budget);
  }

 private:
  static std::vector<std::string> environment_with(EnvChanges changes) {
    changes.emplace("KELVIN_TOKEN", std::nullopt);  // emplace: a test's own value stays
    changes.emplace("KELVIND_TOKEN", std::nullopt);
    std::vector<std::string> out;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry(*e);
      if (changes.count(entry.substr(0, entry.find('='))) == 0)
        out.push_back(entry);
    }
    for (const auto& [name, value] : changes) {
      if (value)
        out.push_back(name + "=" + *value);
    }
    return out;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::optional<int> exit_code_;
};

// The whole of a (small) text file; "" if it cannot be read.
inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace kelvin::tools::kelvind::testing
