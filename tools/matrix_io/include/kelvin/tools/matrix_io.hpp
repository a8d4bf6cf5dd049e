// Reading and writing the matrices and vectors that kelvin's tools take from files.
//
// Two formats, chosen by content: a file that starts with the NumPy magic "\x93NUMPY" is read as
// .npy; any other file is read as text (a file named *.npy without the magic is an error).
//   Text: numbers separated by whitespace and/or commas, one matrix row per line. Blank lines
//     and everything from '#' to the end of a line are ignored. A vector is one number per line
//     or all on one line.
//   .npy: format versions 1.0, 2.0 and 3.0; dtypes <f8, <f4, <i8, <i4; C or Fortran order;
//     1-D or 2-D. A matrix needs a 2-D array; a vector accepts 1-D, n x 1 or 1 x n.
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

#include <Eigen/Core>

namespace kelvin::tools {

class MatrixFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A 2-D array: a text file of equal-length rows, or a 2-D .npy array.
Eigen::MatrixXd read_matrix(const std::filesystem::path& path);
// A 1-D array: a text column or row, or a .npy array of shape (n,), (n, 1) or (1, n).
Eigen::VectorXd read_vector(const std::filesystem::path& path);

// Text with every double written as "%.17g", so that reading it back gives the same bits.
// One row per line, values separated by one space; a vector is written one value per line.
void write_matrix_text(const std::filesystem::path& path, const Eigen::MatrixXd& matrix);
void write_vector_text(const std::filesystem::path& path, const Eigen::VectorXd& vector);

// .npy version 1.0, dtype <f8, C order: a matrix as a 2-D array, a vector as a 1-D array.
void write_npy(const std::filesystem::path& path, const Eigen::MatrixXd& matrix);
void write_npy(const std::filesystem::path& path, const Eigen::VectorXd& vector);

}  // namespace kelvin::tools
