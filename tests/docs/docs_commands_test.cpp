// The docs match the tool: every kelvin command line in README.md and docs/*.md that can run on
// an emulated board is run and must exit as documented, and every usage line (and every line
// that needs a server or a USB board) names only options its command has.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "doc_commands.hpp"

namespace kelvin::testing::docs {
namespace {

namespace fs = std::filesystem;

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct ShellRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr, for the failure message
};

// Runs `line` with sh in `dir`, the kelvin under test first on PATH and no remote servers
// configured, under a 300 s limit.
ShellRun run_shell(const fs::path& dir, const std::string& line) {
  const std::string bin = fs::path(KELVIN_CLI_PATH).parent_path().string();
  const std::string command = "cd " + shell_quote(dir.string()) + " && PATH=" + shell_quote(bin) +
                              ":\"$PATH\" env -u KELVIN_REMOTES timeout 300 sh -c " +
                              shell_quote(line) + " 2>&1";
  ShellRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr)
    return run;
  char buffer[4096];
  for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    run.output.append(buffer, got);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("kelvin-docs-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

// The files the docs' placeholders name (fixture_file_names()): a 6 x 6 SPD system (A, b), a
// 5 x 5 damped Fisher and gradient (F, g), a 4-node Ising model, binary training data.
void write_fixtures(const fs::path& dir) {
  const std::string a =
      "4 -1 0.5 0 0 0\n-1 4 -1 0.5 0 0\n0.5 -1 4 -1 0.5 0\n0 0.5 -1 4 -1 0.5\n"
      "0 0 0.5 -1 4 -1\n0 0 0 0.5 -1 4\n";
  const std::string b = "1 -0.5 0.25 0 0.5 -1\n";
  write(dir / "A", a);
  write(dir / "A.txt", a);
  write(dir / "b", b);
  write(dir / "b.txt", b);
  write(dir / "F", "2 0.3 0 0 0\n0.3 1.5 0.2 0 0\n0 0.2 1 0.1 0\n0 0 0.1 0.8 0.1\n0 0 0 0.1 0.6\n");
  write(dir / "g", "1 -1 0.5 0.2 -0.3\n");
  const std::string model =
      R"({"nodes": 4, "edges": [[0, 1, 2], [1, 2, -1], [2, 3, 1]], "bias": [1, 0, 0, -1]})";
  write(dir / "model.json", model);
  write(dir / "m.json", model);
  // Training data for `kelvin train-ebm --data data.txt`: 8 examples of 6 pixels.
  write(dir / "data.txt",
        "1 0 1 0 1 0\n101010\n1,0,1,0,1,0\n0 0 1 0 1 0\n1 1 1 0 1 0\n1 0 0 0 1 0\n"
        "1 0 1 1 1 0\n1 0 1 0 0 1\n");
}

std::vector<DocCommand> all_commands() {
  return extract_all_commands(fs::path(KELVIN_SOURCE_DIR));
}

TEST(Docs, ExtractorFindsFencedAndInlineCommandsAndClassifiesThem) {
  const std::string md =
      "Run `kelvin probe --uri 'sim:resonator?cells=4'` or\n"
      "`kelvin stream --uri sim:resonator\n--duration 1` (wrapped).\n\n"
      "```sh\n"
      "kelvin solve --matrix A --rhs b   # x and its error bars\n"
      "kelvin stream --uri URI --duration S [--json]\n"
      "KELVIN_TOKEN=x kelvin probe --uri tcp:lab-host:7817\n"
      "kelvin stream --uri 'sim:resonator?fault=drop:0.1' --duration 1 \\\n"
      "    --strict   # exits 3 on loss\n"
      "```\n"
      "The `kelvin solve` command; `kelvin::runtime::solve()` is C++.\n";
  const auto c = extract_commands(md, "x.md");
  ASSERT_EQ(c.size(), 7u);
  EXPECT_EQ(c[0].kind, DocCommandKind::kRun);
  EXPECT_EQ(c[0].line, 1);
  EXPECT_EQ(c[1].text, "kelvin stream --uri sim:resonator --duration 1");
  EXPECT_EQ(c[1].kind, DocCommandKind::kRun);
  EXPECT_EQ(c[2].text, "kelvin solve --matrix A --rhs b");
  EXPECT_EQ(c[2].kind, DocCommandKind::kRun);
  EXPECT_EQ(c[3].kind, DocCommandKind::kSynopsis);
  EXPECT_EQ(c[4].kind, DocCommandKind::kRemote);
  EXPECT_EQ(c[5].expected_exit, 3);
  EXPECT_EQ(c[5].options(), (std::vector<std::string>{"--uri", "--duration", "--strict"}));
  EXPECT_EQ(c[6].kind, DocCommandKind::kSynopsis);
  EXPECT_EQ(c[6].subcommand(), "solve");
}

// So that the tests below cannot pass by finding nothing.
TEST(Docs, TheDocsShowCommandsOfEveryKind) {
  std::map<DocCommandKind, int> count;
  for (const DocCommand& c : all_commands())
    ++count[c.kind];
  EXPECT_GE(count[DocCommandKind::kRun], 5);
  EXPECT_GE(count[DocCommandKind::kSynopsis], 10);
  EXPECT_GE(count[DocCommandKind::kRemote], 1);
}

TEST(Docs, EveryDocumentedCommandLineRunsAndExitsAsDocumented) {
  TempDir dir;
  write_fixtures(dir.path());
  for (const DocCommand& c : all_commands()) {
    if (c.kind != DocCommandKind::kRun)
      continue;
    const ShellRun run = run_shell(dir.path(), c.text);
    EXPECT_EQ(run.exit_code, c.expected_exit) << c.where() << "\n" << run.output;
  }
}

TEST(Docs, EveryUsageLineNamesOnlyCommandsAndOptionsTheToolHas) {
  TempDir dir;
  std::map<std::string, std::string> help;  // subcommand -> its --help
  for (const DocCommand& c : all_commands()) {
    const std::string sub = c.subcommand();
    if (help.count(sub) == 0) {
      const ShellRun run = run_shell(dir.path(), "kelvin " + sub + " --help");
      ASSERT_EQ(run.exit_code, 0) << c.where() << ": no such command\n" << run.output;
      help[sub] = run.output;
    }
    for (const std::string& option : c.options()) {
      const std::string& text = help[sub];
      bool found = false;
      for (std::size_t at = text.find(option); at != std::string::npos && !found;
           at = text.find(option, at + 1)) {
        const std::size_t end = at + option.size();
        found = end == text.size() || text[end] == ' ' || text[end] == ',' || text[end] == '\n';
      }
      EXPECT_TRUE(found) << c.where() << ": 'kelvin " << sub << " --help' has no " << option;
    }
  }
}

// Every Markdown file the docs name exists in the tree (docs once cited notes that were never
// committed): a name is looked up beside the citing file, then from the root, then in docs/.
TEST(Docs, EveryMarkdownFileTheDocsNameExists) {
  const fs::path root(KELVIN_SOURCE_DIR);
  std::vector<fs::path> files{root / "README.md"};
  for (const auto& entry : fs::directory_iterator(root / "docs")) {
    if (entry.path().extension() == ".md")
      files.push_back(entry.path());
  }
  static const std::regex cited(R"(([A-Za-z0-9_./-]+)\.md\b)");
  int names = 0;
  for (const fs::path& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    const std::string body = text.str();
    for (auto it = std::sregex_iterator(body.begin(), body.end(), cited);
         it != std::sregex_iterator(); ++it) {
      const std::string name = (*it)[1].str() + ".md";
      if (name.find("://") != std::string::npos || name.rfind("http", 0) == 0)
        continue;
      ++names;
      const bool found = fs::exists(file.parent_path() / name) || fs::exists(root / name) ||
                         fs::exists(root / "docs" / name);
      EXPECT_TRUE(found) << fs::relative(file, root).string() << " names " << name
                         << ", which is not in the tree";
    }
  }
  EXPECT_GE(names, 10);
}

}  // namespace
}  // namespace kelvin::testing::docs
