// map_to_lattice(): an Ising model written in the p-bit board's own terms (model node i = lattice
// node i, integer codes) becomes a lattice program, or a refusal naming what the board cannot
// realize. (Moved here with the mapping from the driver, which no longer turns problems into
// codes.)
#include "kelvin/runtime/pbit/ising_model.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/testing/boards.hpp"
#include "kelvin/testing/errors.hpp"

namespace kelvin::runtime {
namespace {

using common::ErrorKind;
using driver::LatticeProgram;
using driver::PbitBoard;
using driver::PbitDescription;
using kelvin::testing::kind_of;
using kelvin::testing::message_of;
using kelvin::testing::open_pbit_board;

TEST(IsingModelMapping, PlacesEdgesOnTheLattice) {
  const PbitBoard board = open_pbit_board();
  IsingModel model;
  model.nodes = 6;
  model.edges = {{1, 0, 3}, {1, 5, -2}};  // (0, 1) given reversed; (1, 5) is a down edge
  model.bias = {1, 0, 0, 0, -4, 0};
  const LatticeProgram program = map_to_lattice(model, board.pbit());
  ASSERT_EQ(program.weights.size(), 17u);
  ASSERT_EQ(program.biases.size(), 12u);
  EXPECT_EQ(program.weights[*board.lattice().edge_index(0, 1)], 3);
  EXPECT_EQ(program.weights[*board.lattice().edge_index(1, 5)], -2);
  int nonzero = 0;
  for (const auto w : program.weights)
    nonzero += w != 0;
  EXPECT_EQ(nonzero, 2);
  EXPECT_EQ(program.biases[4], -4);
  EXPECT_EQ(program.biases[11], 0);  // unused lattice nodes are uncoupled and unbiased
}

TEST(IsingModelMapping, NamesWhatTheBoardCannotRealize) {
  const PbitDescription pbit =
      *driver::backends::open("sim:pbit?rows=70&cols=70&degree=12&seed=1")->description().pbit;
  IsingModel model;
  model.nodes = 10;
  model.edges = {{0, 1, 1}, {2, 5, 1}};
  std::string message = message_of([&] { map_to_lattice(model, pbit); });
  EXPECT_EQ(message, "(2, 5) is not a lattice edge for degree 12 on 70x70");
  EXPECT_EQ(kind_of([&] { map_to_lattice(model, pbit); }), ErrorKind::kNotSupported);

  model.edges = {{0, 1, 7}};
  message = message_of([&] { map_to_lattice(model, pbit); });
  EXPECT_NE(message.find("(0, 1)"), std::string::npos) << message;
  EXPECT_EQ(kind_of([&] { map_to_lattice(model, pbit); }), ErrorKind::kOutOfRange);

  model.edges = {{0, 1, 1}, {1, 0, 2}};
  EXPECT_EQ(kind_of([&] { map_to_lattice(model, pbit); }), ErrorKind::kInvalidArgument);

  model.edges = {};
  model.bias = std::vector<int>(10, 0);
  model.bias[7] = 128;
  message = message_of([&] { map_to_lattice(model, pbit); });
  EXPECT_NE(message.find("node 7"), std::string::npos) << message;
  EXPECT_EQ(kind_of([&] { map_to_lattice(model, pbit); }), ErrorKind::kOutOfRange);

  model.nodes = 4901;
  model.bias.clear();
  EXPECT_EQ(kind_of([&] { map_to_lattice(model, pbit); }), ErrorKind::kNotSupported);
}

}  // namespace
}  // namespace kelvin::runtime
