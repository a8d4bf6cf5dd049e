// Reading and writing the matrices and vectors that kelvin's tools take from files.
//
// Three formats, chosen by content: a file that starts with the NumPy magic "\x93NUMPY" is read
// as .npy, one that starts with "%%MatrixMarket" as Matrix Market; any other file is read as text
// (a file named *.npy without the magic, or *.mtx without the banner, is an error).
//   Text: numbers separated by whitespace and/or commas, one matrix row per line. Blank lines
//     and everything from '#' to the end of a line are ignored. A vector is one number per line
//     or all on one line.
//   .npy: format versions 1.0, 2.0 and 3.0; dtypes <f8, <f4, <i8, <i4; C or Fortran order;
//     1-D or 2-D. A matrix needs a 2-D array; a vector accepts 1-D, n x 1 or 1 x n.
//   Matrix Market: "%%MatrixMarket matrix coordinate real|integer general|symmetric", '%'
//     comment lines, a size line "rows columns entries", one "i j value" line per entry (1-based;
//     a symmetric file gives the lower triangle, mirrored on reading; each entry at most once).
//     Read sparse by read_sparse_matrix(); read_matrix() makes it dense; a vector is n x 1 or 1 x
//     n.
// Every value must be finite. Failures throw MatrixFileError with a one-line message that names
// the file and, for text, the line and value (for example
// "A.txt: line 3 has 4 values, expected 5 (as on line 1)").
//
// Thread contract: free functions without shared state; concurrent calls are safe (on distinct
// files for writes).
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include <Eigen/Core>
#include <Eigen/SparseCore>

namespace kelvin::tools::matrix_io {

class MatrixFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A 2-D array: a text file of equal-length rows, or a 2-D .npy array.
Eigen::MatrixXd read_matrix(const std::filesystem::path& path);
// A 1-D array: a text column or row, or a .npy array of shape (n,), (n, 1) or (1, n).
Eigen::VectorXd read_vector(const std::filesystem::path& path);
// Any matrix file as a sparse matrix: Matrix Market is read sparse (never dense, so large systems
// fit in memory); text and .npy are read dense and converted (zeros are not stored).
Eigen::SparseMatrix<double> read_sparse_matrix(const std::filesystem::path& path);
// Whether the file starts with the Matrix Market banner or is named *.mtx; false if it cannot be
// read (reading it then reports why).
bool is_matrix_market_file(const std::filesystem::path& path);

// Text with every double written as "%.17g", so that reading it back gives the same bits.
// One row per line, values separated by one space; a vector is written one value per line.
void write_matrix_text(const std::filesystem::path& path, const Eigen::MatrixXd& matrix);
void write_vector_text(const std::filesystem::path& path, const Eigen::VectorXd& vector);

// .npy version 1.0, dtype <f8, C order: a matrix as a 2-D array, a vector as a 1-D array.
void write_npy(const std::filesystem::path& path, const Eigen::MatrixXd& matrix);
void write_npy(const std::filesystem::path& path, const Eigen::VectorXd& vector);

// The .npy format 1.0 header of a C-order array of dtype `descr` ("<f8", "<i2") and `shape`
// ("(3, 4)", "(5,)"), padded with spaces so that the data starts at `total_bytes` (0: the next
// multiple of 64). A fixed total lets a writer rewrite the shape in place when an array grows
// (kelvin stream -o). Throws MatrixFileError if the header does not fit.
std::string npy_header(std::string_view descr, std::string_view shape, std::size_t total_bytes = 0);

// Matrix Market "coordinate real general": every stored entry, values as "%.17g".
void write_matrix_market(const std::filesystem::path& path,
                         const Eigen::SparseMatrix<double>& matrix);

}  // namespace kelvin::tools::matrix_io
