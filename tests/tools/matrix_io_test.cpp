#include "kelvin/tools/matrix_io/matrix_io.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "test_files.hpp"

namespace kelvin::tools::matrix_io {
namespace {

using testing::TempDir;

// Runs `read` and checks that it throws MatrixFileError with a one-line message that names the
// file and contains `expected`.
void expect_error(const std::function<void()>& read, const std::filesystem::path& file,
                  const std::string& expected) {
  try {
    read();
    ADD_FAILURE() << "no error for " << file << "; expected one mentioning: " << expected;
  } catch (const MatrixFileError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(expected), std::string::npos) << "message: " << message;
    EXPECT_NE(message.find(file.filename().string()), std::string::npos) << "message: " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "message: " << message;
  }
}

void expect_matrix_error(const std::filesystem::path& file, const std::string& expected) {
  expect_error([&] { (void)read_matrix(file); }, file, expected);
}

void expect_vector_error(const std::filesystem::path& file, const std::string& expected) {
  expect_error([&] { (void)read_vector(file); }, file, expected);
}

// ---- .npy bytes built by hand, so that the reader is tested independently of the writer ----

void append_le(std::string& out, std::uint64_t value, std::size_t size) {
  for (std::size_t k = 0; k < size; ++k)
    out.push_back(static_cast<char>((value >> (8 * k)) & 0xff));
}

std::string f8(std::initializer_list<double> values) {
  std::string out;
  for (const double v : values)
    append_le(out, std::bit_cast<std::uint64_t>(v), 8);
  return out;
}
std::string f4(std::initializer_list<float> values) {
  std::string out;
  for (const float v : values)
    append_le(out, std::bit_cast<std::uint32_t>(v), 4);
  return out;
}
std::string i4(std::initializer_list<std::int32_t> values) {
  std::string out;
  for (const auto v : values)
    append_le(out, std::bit_cast<std::uint32_t>(v), 4);
  return out;
}
std::string i8(std::initializer_list<std::int64_t> values) {
  std::string out;
  for (const auto v : values)
    append_le(out, std::bit_cast<std::uint64_t>(v), 8);
  return out;
}

// A .npy file with the given header dict text, as numpy writes it (padded, ending in '\n').
std::string npy_raw(const std::string& dict, const std::string& data, int major = 1) {
  const std::size_t preamble = major == 1 ? 10 : 12;
  std::string header = dict;
  header.append((64 - (preamble + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back('\0');
  append_le(out, header.size(), major == 1 ? 2 : 4);
  return out + header + data;
}

std::string npy(const std::string& descr, bool fortran, const std::string& shape,
                const std::string& data, int major = 1) {
  return npy_raw("{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                     ", 'shape': " + shape + ", }",
                 data, major);
}

Eigen::MatrixXd expected_2x3() {
  Eigen::MatrixXd m(2, 3);
  m << 1.5, -2.0, 3.25, 4.0, 5.5, -6.75;
  return m;
}

// ---- text ----

TEST(MatrixIoText, RoundTripPreservesEveryBit) {
  TempDir dir;
  Eigen::MatrixXd m(3, 3);
  m << 1.0 / 3.0, -1e-300, 6.02214076e23,  //
      -0.0, std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max(),
      std::numeric_limits<double>::lowest(), 0.1 + 0.2, -7.0;
  const auto file = dir / "m.txt";
  write_matrix_text(file, m);
  const Eigen::MatrixXd back = read_matrix(file);
  ASSERT_EQ(back.rows(), 3);
  ASSERT_EQ(back.cols(), 3);
  for (Eigen::Index i = 0; i < 3; ++i) {
    for (Eigen::Index j = 0; j < 3; ++j) {
      EXPECT_EQ(std::bit_cast<std::uint64_t>(back(i, j)), std::bit_cast<std::uint64_t>(m(i, j)))
          << "at (" << i << ", " << j << ")";
    }
  }

  Eigen::VectorXd v(4);
  v << 2.0 / 3.0, -1e-17, 12345.678901234567, 0.0;
  const auto vfile = dir / "v.txt";
  write_vector_text(vfile, v);
  const Eigen::VectorXd vback = read_vector(vfile);
  ASSERT_EQ(vback.size(), 4);
  for (Eigen::Index i = 0; i < 4; ++i) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(vback(i)), std::bit_cast<std::uint64_t>(v(i)));
  }
}

TEST(MatrixIoText, IgnoresCommentsAndBlankLinesAndAcceptsCommas) {
  TempDir dir;
  const auto file = dir.write("m.csv",
                              "# a 2 x 3 matrix\n"
                              "\n"
                              "1.5, -2 ,3.25\n"
                              "   \t\n"
                              "  4\t+5.5, -6.75e0   # trailing comment\r\n"
                              "# end\n");
  EXPECT_EQ(read_matrix(file), expected_2x3());
}

TEST(MatrixIoText, VectorMayBeAColumnOrARow) {
  TempDir dir;
  Eigen::VectorXd expected(3);
  expected << 1.0, -2.0, 0.5;
  EXPECT_EQ(read_vector(dir.write("col.txt", "1\n-2\n0.5\n")), expected);
  EXPECT_EQ(read_vector(dir.write("row.txt", "1 -2 0.5")), expected);
  EXPECT_EQ(read_vector(dir.write("csv.txt", "1,-2,0.5\n")), expected);
}

TEST(MatrixIoText, RaggedRowsErrorNamesTheLine) {
  TempDir dir;
  expect_matrix_error(dir.write("ragged.txt", "1 2 3\n4 5 6\n7 8\n"),
                      "line 3 has 2 values, expected 3");
  expect_matrix_error(dir.write("ragged2.txt", "# c\n1 2\n\n3 4 5\n"),
                      "line 4 has 3 values, expected 2 (as on line 2)");
}

TEST(MatrixIoText, NonNumericTokenErrorNamesLineColumnAndToken) {
  TempDir dir;
  expect_matrix_error(dir.write("bad.txt", "1 2\n3 x4\n"),
                      "line 2, column 3: 'x4' is not a number");
  expect_matrix_error(dir.write("hex.txt", "0x10\n"), "'0x10' is not a number");
  expect_matrix_error(dir.write("semi.txt", "1;2\n"), "'1;2' is not a number");
  expect_matrix_error(dir.write("commas.txt", "1,,2\n"), "line 1, column 3: empty value");
  expect_matrix_error(dir.write("big.txt", "1 1e999\n"), "'1e999' is too large");
}

TEST(MatrixIoText, RejectsNanAndInfinity) {
  TempDir dir;
  expect_matrix_error(dir.write("nan.txt", "1 2 3\n4 5 nan\n"), "line 2, value 3 is not finite");
  expect_matrix_error(dir.write("inf.txt", "-inf 1\n"), "line 1, value 1 is not finite");
  expect_vector_error(dir.write("vnan.txt", "1\nNaN\n"), "line 2, value 1 is not finite");
}

TEST(MatrixIoText, RejectsEmptyFile) {
  TempDir dir;
  expect_matrix_error(dir.write("empty.txt", ""), "empty");
  expect_matrix_error(dir.write("comments.txt", "# nothing\n\n   \n"), "contains no numbers");
  expect_vector_error(dir.write("vempty.txt", ""), "empty");
}

TEST(MatrixIoText, VectorRejectsAMatrix) {
  TempDir dir;
  expect_vector_error(dir.write("m.txt", "1 2\n3 4\n"), "is a 2 x 2 matrix");
}

TEST(MatrixIoText, TinyValuesUnderflowInsteadOfFailing) {
  TempDir dir;
  const Eigen::VectorXd v = read_vector(dir.write("tiny.txt", "1e-400 2\n"));
  ASSERT_EQ(v.size(), 2);
  EXPECT_EQ(v(0), 0.0);
  EXPECT_EQ(v(1), 2.0);
}

TEST(MatrixIoFiles, MissingFileAndDirectoryAreReported) {
  TempDir dir;
  expect_matrix_error(dir / "absent.txt", "cannot open: No such file or directory");
  expect_vector_error(dir.path(), "is a directory");
}

// ---- .npy ----

TEST(MatrixIoNpy, ReadsF8InCAndFortranOrder) {
  TempDir dir;
  EXPECT_EQ(read_matrix(dir.write(
                "c.npy", npy("<f8", false, "(2, 3)", f8({1.5, -2.0, 3.25, 4.0, 5.5, -6.75})))),
            expected_2x3());
  EXPECT_EQ(read_matrix(dir.write(
                "f.npy", npy("<f8", true, "(2, 3)", f8({1.5, 4.0, -2.0, 5.5, 3.25, -6.75})))),
            expected_2x3());
}

TEST(MatrixIoNpy, ReadsF4InCAndFortranOrder) {
  TempDir dir;
  EXPECT_EQ(read_matrix(dir.write("c.npy", npy("<f4", false, "(2, 3)",
                                               f4({1.5f, -2.0f, 3.25f, 4.0f, 5.5f, -6.75f})))),
            expected_2x3());
  EXPECT_EQ(read_matrix(dir.write(
                "f.npy", npy("<f4", true, "(2, 3)", f4({1.5f, 4.0f, -2.0f, 5.5f, 3.25f, -6.75f})))),
            expected_2x3());
}

TEST(MatrixIoNpy, ReadsI4AndI8InCAndFortranOrder) {
  TempDir dir;
  Eigen::MatrixXd expected(2, 2);
  expected << 1, -2, 3, 2147483647;
  EXPECT_EQ(
      read_matrix(dir.write("c.npy", npy("<i4", false, "(2, 2)", i4({1, -2, 3, 2147483647})))),
      expected);
  EXPECT_EQ(read_matrix(dir.write("f.npy", npy("<i4", true, "(2, 2)", i4({1, 3, -2, 2147483647})))),
            expected);
  EXPECT_EQ(
      read_matrix(dir.write("c8.npy", npy("<i8", false, "(2, 2)", i8({1, -2, 3, 2147483647})))),
      expected);
  expect_matrix_error(
      dir.write("huge.npy", npy("<i8", false, "(1, 1)", i8({(std::int64_t{1} << 53) + 1}))),
      "cannot be represented exactly");
}

TEST(MatrixIoNpy, ReadsFormatVersions2And3) {
  TempDir dir;
  const std::string data = f8({1.5, -2.0, 3.25, 4.0, 5.5, -6.75});
  EXPECT_EQ(read_matrix(dir.write("v2.npy", npy("<f8", false, "(2, 3)", data, 2))), expected_2x3());
  EXPECT_EQ(read_matrix(dir.write("v3.npy", npy("<f8", false, "(2, 3)", data, 3))), expected_2x3());
  std::string v4 = npy("<f8", false, "(2, 3)", data, 2);
  v4[6] = 4;
  expect_matrix_error(dir.write("v4.npy", v4), "unsupported .npy format version 4.0");
}

TEST(MatrixIoNpy, VectorAccepts1DColumnAndRowArrays) {
  TempDir dir;
  Eigen::VectorXd expected(3);
  expected << 0.25, -1.0, 8.0;
  const std::string data = f8({0.25, -1.0, 8.0});
  EXPECT_EQ(read_vector(dir.write("v.npy", npy("<f8", false, "(3,)", data))), expected);
  EXPECT_EQ(read_vector(dir.write("col.npy", npy("<f8", false, "(3, 1)", data))), expected);
  EXPECT_EQ(read_vector(dir.write("row.npy", npy("<f8", true, "(1, 3)", data))), expected);
  expect_vector_error(dir.write("m.npy", npy("<f8", false, "(2, 2)", f8({1, 2, 3, 4}))),
                      "need shape (n,), (n, 1) or (1, n)");
  expect_matrix_error(dir.write("m1.npy", npy("<f8", false, "(3,)", data)),
                      "a matrix needs a 2-D array");
}

TEST(MatrixIoNpy, WriteNpyRoundTrips) {
  TempDir dir;
  const auto file = dir / "m.npy";
  write_npy(file, expected_2x3());
  EXPECT_EQ(read_matrix(file), expected_2x3());
  Eigen::VectorXd v(2);
  v << 1.0 / 7.0, -3.0;
  const auto vfile = dir / "v.npy";
  write_npy(vfile, v);
  EXPECT_EQ(read_vector(vfile), v);
  EXPECT_EQ(std::filesystem::file_size(vfile), 128u + 16u);  // 64-byte aligned header
}

TEST(MatrixIoNpy, RejectsBadMagic) {
  TempDir dir;
  std::string bytes = npy("<f8", false, "(1, 1)", f8({1.0}));
  bytes[1] = 'X';
  expect_matrix_error(dir.write("bad.npy", bytes), "bad magic");
  expect_matrix_error(dir.write("text.npy", "1 2\n3 4\n"), "not a .npy file");
}

TEST(MatrixIoNpy, RejectsTruncatedData) {
  TempDir dir;
  const std::string full = npy("<f8", false, "(2, 3)", f8({1, 2, 3, 4, 5, 6}));
  expect_matrix_error(dir.write("short.npy", full.substr(0, full.size() - 3)),
                      "truncated .npy data");
  expect_matrix_error(dir.write("long.npy", full + "xx"), "unexpected bytes after");
  expect_matrix_error(dir.write("preamble.npy", full.substr(0, 9)), "truncated .npy preamble");
  expect_matrix_error(dir.write("header.npy", full.substr(0, 40)), "truncated .npy header");
}

TEST(MatrixIoNpy, RejectsUnsupportedDtypes) {
  TempDir dir;
  expect_matrix_error(dir.write("c16.npy", npy("<c16", false, "(1, 1)", f8({1.0, 0.0}))),
                      "unsupported dtype '<c16'");
  expect_matrix_error(dir.write("u1.npy", npy("|u1", false, "(1, 1)", "x")),
                      "unsupported dtype '|u1'");
  expect_matrix_error(dir.write("be.npy", npy(">f8", false, "(1, 1)", f8({1.0}))),
                      "big-endian dtype '>f8' is not supported");
  expect_matrix_error(dir.write("obj.npy", npy("|O", false, "(1, 1)", i8({0}))), "object arrays");
  expect_matrix_error(
      dir.write("rec.npy", npy_raw("{'descr': [('a', '<f8')], 'fortran_order': False, "
                                   "'shape': (1, 1), }",
                                   f8({1.0}))),
      "structured dtypes");
}

TEST(MatrixIoNpy, HugeHeaderLengthDoesNotCrash) {
  TempDir dir;
  std::string v2("\x93NUMPY\x02\x00", 8);
  append_le(v2, 0xfffffff0u, 4);
  v2 += "{'descr': '<f8'";
  expect_matrix_error(dir.write("huge2.npy", v2), "exceeds the limit");
  std::string v1("\x93NUMPY\x01\x00", 8);
  append_le(v1, 0xffffu, 2);
  v1 += "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }\n";
  expect_matrix_error(dir.write("huge1.npy", v1), "truncated .npy header");
}

TEST(MatrixIoNpy, RejectsMalformedHeadersAndShapes) {
  TempDir dir;
  const std::string one = f8({1.0});
  expect_matrix_error(dir.write("nokey.npy", npy_raw("{'descr': '<f8', 'shape': (1, 1), }", one)),
                      "'fortran_order' is missing");
  expect_matrix_error(dir.write("junk.npy", npy_raw("{'descr': '<f8', 'fortran_order': Maybe, "
                                                    "'shape': (1, 1), }",
                                                    one)),
                      "must be True or False");
  expect_matrix_error(dir.write("open.npy", npy_raw("{'descr': '<f8", one)), "unterminated string");
  expect_matrix_error(dir.write("neg.npy", npy("<f8", false, "(-1, 1)", one)),
                      "non-negative integers");
  expect_matrix_error(dir.write("3d.npy", npy("<f8", false, "(1, 1, 1)", one)),
                      "3-D array of shape (1, 1, 1) is not supported");
  expect_matrix_error(dir.write("0d.npy", npy("<f8", false, "()", one)), "0-dimensional");
  expect_matrix_error(dir.write("empty.npy", npy("<f8", false, "(0, 3)", "")), "is empty");
  expect_matrix_error(dir.write("overflow.npy", npy("<f8", false, "(4611686018427387904, 4)", one)),
                      "too large");
  expect_matrix_error(
      dir.write("bigdim.npy", npy("<f8", false, "(99999999999999999999999, 1)", one)), "too large");
}

TEST(MatrixIoNpy, RejectsNonFiniteValues) {
  TempDir dir;
  expect_matrix_error(
      dir.write("nan.npy", npy("<f8", false, "(2, 2)",
                               f8({1.0, 2.0, 3.0, std::numeric_limits<double>::quiet_NaN()}))),
      "element [1, 1] is not finite");
  expect_vector_error(
      dir.write("inf.npy", npy("<f4", false, "(3,)",
                               f4({1.0f, std::numeric_limits<float>::infinity(), 0.0f}))),
      "element [1] is not finite");
}

TEST(MatrixIoMarket, ReadsGeneralAndMirrorsSymmetricAndRoundTrips) {
  TempDir dir;
  const std::string h = "%%MatrixMarket matrix coordinate ";
  const auto general =
      dir.write("g.mtx", h + "real general\n% c\n\n2 3 3\n1 1 1.5\n2 3 -6.75\n1 2 -2\n");
  EXPECT_EQ(Eigen::MatrixXd(read_sparse_matrix(general)),
            (Eigen::MatrixXd(2, 3) << 1.5, -2, 0, 0, 0, -6.75).finished());
  const auto sym = dir.write("s.mtx", h + "integer symmetric\n2 2 3\n1 1 4\n2 1 -1\n2 2 3\n");
  EXPECT_EQ(read_matrix(sym), (Eigen::MatrixXd(2, 2) << 4, -1, -1, 3).finished());
  write_matrix_market(dir / "w.mtx", read_sparse_matrix(sym));
  EXPECT_EQ(read_matrix(dir / "w.mtx"), read_matrix(sym));
  EXPECT_EQ(read_sparse_matrix(dir.write("d.txt", "1 0\n0 2\n")).nonZeros(), 2);
}

TEST(MatrixIoMarket, MalformedFilesAreRefusedNamingTheLine) {
  TempDir dir;
  const std::string h = "%%MatrixMarket matrix coordinate ", ok = h + "real general\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {h + "\n1 1 1\n1 1 1\n", "line 1: bad Matrix Market banner"},
      {h + "complex general\n", "line 1: field 'complex'"},
      {h + "pattern general\n", "line 1: field 'pattern'"},
      {"%%MatrixMarket matrix array real general\n", "line 1: format 'array'"},
      {ok + "2 2\n", "line 2: bad size line"},
      {ok + "2 2 1\n3 0 1\n", "line 3: index (3, 0) is out of range"},
      {ok + "2 2 2\n1 1 1\n", "has 1 entries, but the size line (line 2) declares 2"},
      {ok + "2 2 1\n1 1 1\n2 2 1\n", "line 4: more entries than the 1 declared on line 2"},
      {ok + "2 2 1\n1 1 x\n", "line 3: 'x' is not a number"},
      {ok + "2 2 1\n1 1 nan\n", "line 3: value 'nan' is not finite"},
      {ok + "2 2 2\n2 1 1\n% c\n2 1 5\n", "lines 3 and 5 both give entry (2, 1)"},
      {h + "real symmetric\n2 2 1\n1 2 1\n", "line 3: entry (1, 2) is above"},
      {h + "integer general\n1 1 1\n1 1 1.5\n", "line 3: '1.5' is not an integer"}};
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const auto file = dir.write("bad" + std::to_string(k) + ".mtx", cases[k].first);
    expect_error([&] { (void)read_sparse_matrix(file); }, file, cases[k].second);
  }
}

}  // namespace
}  // namespace kelvin::tools::matrix_io
