#include "doc_commands.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace kelvin::testing::docs {
namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos)
    return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// Shell-like words: whitespace separates, quotes group (and are kept out of the word).
std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (const char c : text) {
    if (quote != 0) {
      if (c == quote)
        quote = 0;
      else
        word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      if (in_word)
        out.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word)
    out.push_back(word);
  return out;
}

// The text before a shell comment ('#' at the start of a word, outside quotes).
std::pair<std::string, std::string> split_comment(const std::string& text) {
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == quote)
        quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '#' && (i == 0 || std::isspace(static_cast<unsigned char>(text[i - 1])))) {
      return {trim(text.substr(0, i)), text.substr(i + 1)};
    }
  }
  return {trim(text), {}};
}

// True when `text` (after VAR=value assignments) is a kelvin command line.
bool starts_with_kelvin(const std::string& text) {
  static const std::regex pattern(R"(^(\$ )?([A-Z_][A-Z0-9_]*=\S*\s+)*kelvin(\s|$))");
  return std::regex_search(text, pattern);
}

bool is_placeholder(const std::string& part) {
  static const std::regex pattern(R"(^[A-Z][A-Z0-9_]*$)");
  const auto& fixtures = fixture_file_names();
  return std::regex_match(part, pattern) &&
         std::find(fixtures.begin(), fixtures.end(), part) == fixtures.end();
}

DocCommand classify(std::string text, const std::string& comment, const std::string& file,
                    int line) {
  if (text.rfind("$ ", 0) == 0)
    text = text.substr(2);
  DocCommand c;
  c.file = file;
  c.line = line;
  c.text = text;
  static const std::regex exit_pattern(R"(exits? (with )?(code )?(\d+))");
  std::smatch m;
  if (std::regex_search(comment, m, exit_pattern))
    c.expected_exit = std::stoi(m[3]);

  // Outside quotes, brackets and bars mark a usage line.
  bool synopsis = false;
  char quote = 0;
  for (const char ch : text) {
    if (quote != 0) {
      quote = ch == quote ? 0 : quote;
    } else if (ch == '\'' || ch == '"') {
      quote = ch;
    } else if (ch == '[' || ch == ']' || ch == '|') {
      synopsis = true;
    }
  }
  bool remote = false;
  const std::vector<std::string> ws = words(text);
  static const std::regex assignment(R"(^[A-Z_][A-Z0-9_]*=)");
  for (const std::string& w : ws) {
    if (std::regex_search(w, assignment))
      continue;  // KELVIN_TOKEN=... before the command
    std::string part;
    std::istringstream parts(w);
    while (std::getline(parts, part, ':')) {
      std::istringstream sub(part);
      for (std::string s; std::getline(sub, s, '=');)
        synopsis = synopsis || is_placeholder(s);
    }
    for (const char* scheme : {"tcp:", "unix:", "usb:"})
      remote = remote || w.rfind(scheme, 0) == 0;
    remote = remote || w.find("lab-host") != std::string::npos;
  }
  // `kelvin solve` alone in prose names a command; it is not a command line to run.
  const auto kelvin_at = std::find(ws.begin(), ws.end(), "kelvin");
  if (kelvin_at != ws.end() && ws.end() - kelvin_at <= 2)
    synopsis = true;
  c.kind = synopsis ? DocCommandKind::kSynopsis
                    : (remote ? DocCommandKind::kRemote : DocCommandKind::kRun);
  return c;
}

}  // namespace

std::string DocCommand::where() const {
  return file + ":" + std::to_string(line) + ": " + text;
}

std::string DocCommand::subcommand() const {
  const std::vector<std::string> ws = words(text);
  const auto it = std::find(ws.begin(), ws.end(), "kelvin");
  if (it == ws.end() || it + 1 == ws.end() || (*(it + 1))[0] == '-')
    return {};
  return *(it + 1);
}

std::vector<std::string> DocCommand::options() const {
  static const std::regex option(R"(^(--[a-z0-9][a-z0-9-]*|-[a-zA-Z])(=.*)?$)");
  std::vector<std::string> out;
  for (const std::string& w : words(text)) {
    std::smatch m;
    if (std::regex_match(w, m, option))
      out.push_back(m[1]);
  }
  return out;
}

const std::vector<std::string>& fixture_file_names() {
  static const std::vector<std::string> names{"A",     "b",     "F",          "g",
                                              "A.txt", "b.txt", "model.json", "m.json"};
  return names;
}

std::vector<DocCommand> extract_commands(const std::string& markdown, const std::string& file) {
  std::vector<DocCommand> out;
  std::istringstream in(markdown);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);)
    lines.push_back(l);

  bool fenced = false;
  std::string span;  // an inline code span being read, across line breaks
  bool in_span = false;
  int span_line = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& raw = lines[i];
    const int number = static_cast<int>(i) + 1;
    if (trim(raw).rfind("```", 0) == 0) {
      fenced = !fenced;
      in_span = false;
      continue;
    }
    if (fenced) {
      std::string text = trim(raw);
      if (!starts_with_kelvin(text))
        continue;
      while (!text.empty() && text.back() == '\\' && i + 1 < lines.size())
        text = trim(text.substr(0, text.size() - 1)) + " " + trim(lines[++i]);
      const auto [command, comment] = split_comment(text);
      out.push_back(classify(command, comment, file, number));
      continue;
    }
    for (const char c : raw) {
      if (c == '`') {
        if (in_span && starts_with_kelvin(trim(span)))
          out.push_back(classify(trim(span), {}, file, span_line));
        in_span = !in_span;
        span.clear();
        span_line = number;
      } else if (in_span) {
        span += c;
      }
    }
    if (in_span)
      span += ' ';
    if (trim(raw).empty())
      in_span = false;  // a span never crosses a paragraph
  }
  return out;
}

std::vector<DocCommand> extract_all_commands(const std::filesystem::path& source_dir) {
  std::vector<std::filesystem::path> files{source_dir / "README.md"};
  std::vector<std::filesystem::path> docs;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir / "docs")) {
    if (entry.path().extension() == ".md")
      docs.push_back(entry.path());
  }
  std::sort(docs.begin(), docs.end());
  files.insert(files.end(), docs.begin(), docs.end());

  std::vector<DocCommand> out;
  for (const auto& path : files) {
    std::ifstream in(path);
    if (!in)
      throw std::runtime_error("cannot read " + path.string());
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    for (DocCommand& c :
         extract_commands(text, std::filesystem::relative(path, source_dir).string()))
      out.push_back(std::move(c));
  }
  return out;
}

}  // namespace kelvin::testing::docs
