#include "kelvin/driver/uri_parameters.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "driver_test_names.hpp"
#include "kelvin/driver/backends/backends.hpp"

namespace kelvin::driver {
namespace {

// A small table of every kind, so that these tests do not depend on a backend's choices.
UriParameterTable toy_table() {
  return UriParameterTable{
      "toy",
      "board",
      "a toy board",
      {UriParameter::unsigned_integer("cells", 1, 256, "8", "cells"),
       UriParameter::unsigned_integer("seed", 0, UINT64_MAX, "1", "noise key"),
       UriParameter::choice("couplings", {"capacitive", "signed"}, "signed", "coupling kind"),
       UriParameter::text("serial", std::string(kNoDefault), "serial number"),
       UriParameter::spec("fault", "drop:P,delay:D", std::string(kNoDefault), "faulty link")}};
}

// A table whose device is named by key=value pairs in the target, as usb:bus=1&address=2.
UriParameterTable keyed_table() {
  return UriParameterTable{
      "keyed",
      "[serial=SERIAL|bus=BUS]",
      "",
      {UriParameter::text("serial", std::string(kNoDefault), "serial number").in_target(),
       UriParameter::unsigned_integer("bus", 1, 255, std::string(kNoDefault), "bus").in_target(),
       UriParameter::unsigned_integer("transfers", 8, 32, "8", "transfers in flight")}};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(UriParameters, UnknownParameterIsRefusedNamingTheKnownOnes) {
  const auto address = DeviceAddress::parse("toy:board?cell=3");
  const std::string message =
      message_of([&] { toy_table().validate(address); }, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(message, "'toy:board?cell=3'")) << message;
  EXPECT_TRUE(contains(message, "unknown parameter 'cell'")) << message;
  EXPECT_TRUE(contains(message, "(known: cells, couplings, fault, seed, serial)")) << message;

  // The backends refuse the same way, before anything is opened.
  const std::string sim =
      message_of([] { backends::open("sim:resonator?cell=8"); }, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(sim, "unknown parameter 'cell'")) << sim;
  EXPECT_TRUE(contains(sim,
                       "(known: cells, couplings, defect, fault, firmware_bug, imperfections, "
                       "ring, seed, serial)"))
      << sim;
  const std::string tcp =
      message_of([] { backends::open("tcp:127.0.0.1:1?bord=1"); }, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(tcp, "(known: board, token_file)")) << tcp;
  const std::string usb =
      message_of([] { backends::open("usb:?transfer=8"); }, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(usb, "(known: transfers)")) << usb;
}

TEST(UriParameters, OutOfRangeValueNamesItsRange) {
  const auto table = toy_table();
  const auto high = DeviceAddress::parse("toy:board?cells=257");
  const std::string message =
      message_of([&] { table.get_uint(high, "cells"); }, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(message, "'toy:board?cells=257'")) << message;
  EXPECT_TRUE(contains(message, "cells=257 must be an integer in [1, 256]")) << message;
  EXPECT_EQ(message, message_of([&] { table.validate(high); }, ErrorKind::kInvalidArgument));

  for (const char* uri :
       {"toy:board?cells=0", "toy:board?cells=abc", "toy:board?cells=-1",
        "toy:board?cells=", "toy:board?cells=8x", "toy:board?seed=18446744073709551616"}) {
    EXPECT_EQ(kind_of([&] { table.validate(DeviceAddress::parse(uri)); }),
              ErrorKind::kInvalidArgument)
        << uri;
  }
  const std::string sim =
      message_of([] { backends::open("sim:pbit?rows=300"); }, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(sim, "rows=300 must be an integer in [1, 256]")) << sim;
}

TEST(UriParameters, ValueOutsideTheChoicesNamesThem) {
  const auto address = DeviceAddress::parse("toy:board?couplings=magnetic");
  const std::string message = message_of([&] { toy_table().get_choice(address, "couplings"); },
                                         ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(message, "couplings=magnetic is not one of capacitive, signed")) << message;

  const std::string degree =
      message_of([] { backends::open("sim:pbit?degree=10"); }, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(degree, "degree=10 is not one of 8, 12, 16")) << degree;
}

TEST(UriParameters, AbsentParametersTakeTheirDefaults) {
  const auto table = toy_table();
  const auto empty = DeviceAddress::parse("toy:board");
  EXPECT_EQ(table.get_uint(empty, "cells"), 8u);
  EXPECT_EQ(table.get_uint(empty, "seed"), 1u);
  EXPECT_EQ(table.get_choice(empty, "couplings"), "signed");
  EXPECT_EQ(table.get_text(empty, "serial"), std::nullopt);  // default "none": not given
  EXPECT_EQ(table.get_text(empty, "fault"), std::nullopt);

  const auto given = DeviceAddress::parse(
      "toy:board?cells=16&seed=18446744073709551615&couplings=capacitive&serial=AB&fault=drop:1");
  table.validate(given);
  EXPECT_EQ(table.get_uint(given, "cells"), 16u);
  EXPECT_EQ(table.get_uint(given, "seed"), UINT64_MAX);
  EXPECT_EQ(table.get_choice(given, "couplings"), "capacitive");
  EXPECT_EQ(table.get_text(given, "serial"), "AB");
  EXPECT_EQ(table.get_text(given, "fault"), "drop:1");  // checked by its own parser, not here
}

TEST(UriParameters, ParameterWithoutDefaultIsAbsentUnlessGiven) {
  const auto table = keyed_table();
  const auto none = DeviceAddress::parse("keyed:");
  EXPECT_EQ(table.find_uint(none, "bus"), std::nullopt);
  EXPECT_THROW(table.get_uint(none, "bus"), std::logic_error);
  EXPECT_EQ(table.find_uint(DeviceAddress::parse("keyed:bus=3"), "bus"), 3u);
}

TEST(UriParameters, TargetKeysAreReadAndCheckedLikeQueryParameters) {
  const auto table = keyed_table();
  const auto address = DeviceAddress::parse("keyed:serial=AB&bus=7?transfers=16");
  table.validate(address);
  EXPECT_EQ(table.get_text(address, "serial"), "AB");
  EXPECT_EQ(table.find_uint(address, "bus"), 7u);
  EXPECT_EQ(table.get_uint(address, "transfers"), 16u);

  const std::string unknown =
      message_of([&] { table.validate(DeviceAddress::parse("keyed:colour=red")); },
                 ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(unknown, "unknown key 'colour' (known: bus, serial)")) << unknown;
  const std::string twice =
      message_of([&] { table.validate(DeviceAddress::parse("keyed:bus=1&bus=2")); },
                 ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(twice, "'bus' given twice")) << twice;
  const std::string pair = message_of([&] { table.validate(DeviceAddress::parse("keyed:bus")); },
                                      ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(pair, "'bus' is not key=value")) << pair;
  const std::string range = message_of([&] { table.validate(DeviceAddress::parse("keyed:bus=0")); },
                                       ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(range, "bus=0 must be an integer in [1, 255]")) << range;
  // A target key written as a query parameter is pointed to its place.
  const std::string misplaced =
      message_of([&] { table.validate(DeviceAddress::parse("keyed:?serial=AB")); },
                 ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(misplaced, "serial belongs in the target")) << misplaced;

  // usb: is such a scheme; find() refuses before it looks for boards.
  EXPECT_EQ(kind_of([] { backends::find("usb:colour=red"); }), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { backends::find("usb:bus=256"); }), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { backends::find("usb:serial="); }), ErrorKind::kInvalidArgument);
}

TEST(UriParameters, ReadingAParameterTheTableDoesNotListIsABackendBug) {
  const auto table = toy_table();
  const auto address = DeviceAddress::parse("toy:board");
  EXPECT_THROW(table.get_uint(address, "rows"), std::logic_error);
  EXPECT_THROW(table.get_uint(address, "couplings"), std::logic_error);  // wrong kind
  EXPECT_THROW(table.get_choice(address, "cells"), std::logic_error);
  EXPECT_THROW(table.get_text(address, "cells"), std::logic_error);
}

TEST(UriParameters, HelpShowsTheSynopsisAndOneLinePerParameter) {
  EXPECT_EQ(toy_table().help(),
            "toy:board?cells=CELLS&seed=SEED&couplings=capacitive|signed&serial=SERIAL&"
            "fault=FAULT\n"
            "    a toy board\n"
            "    cells      1..256 (default 8): cells\n"
            "    seed       0..2^64-1 (default 1): noise key\n"
            "    couplings  capacitive|signed (default signed): coupling kind\n"
            "    serial     text (default none): serial number\n"
            "    fault      drop:P,delay:D (default none): faulty link");
  // Target keys are the table's target pattern, not query parameters.
  EXPECT_EQ(keyed_table().synopsis(), "keyed:[serial=SERIAL|bus=BUS]?transfers=TRANSFERS");
}

TEST(UriParameters, HelpListsEveryParameterWithItsDefault) {
  const Registry& registry = backends::builtin_registry();
  const std::string all = backends::uri_help();
  for (const std::string& scheme : registry.schemes()) {
    const auto tables = registry.uri_tables(scheme);
    ASSERT_FALSE(tables.empty()) << scheme << " documents no parameters";
    const std::string help = backends::uri_help(scheme);
    for (const auto& table : tables) {
      EXPECT_EQ(table.scheme, scheme);
      EXPECT_TRUE(contains(help, table.synopsis())) << help;
      EXPECT_TRUE(contains(all, table.synopsis())) << all;
      for (const auto& parameter : table.parameters) {
        const std::string line =
            fmt::format("{} (default {})", parameter.values_text(), parameter.default_value);
        EXPECT_TRUE(contains(help, parameter.name + " ")) << scheme << ": " << parameter.name;
        EXPECT_TRUE(contains(help, line)) << scheme << ": " << line << "\n" << help;
        EXPECT_FALSE(parameter.meaning.empty()) << scheme << ": " << parameter.name;
      }
    }
    // For help footers: every line after the first is indented by two spaces.
    for (std::size_t at = help.find('\n'); at != std::string::npos; at = help.find('\n', at + 1))
      EXPECT_EQ(help.compare(at + 1, 2, "  "), 0) << help;
  }
  EXPECT_TRUE(contains(all, "sim:resonator?cells=CELLS&seed=SEED")) << all;
  EXPECT_TRUE(contains(all, "cells          1..256 (default 8)")) << all;
  EXPECT_TRUE(contains(all, "degree         8|12|16 (default 12)")) << all;
  EXPECT_TRUE(contains(all, "usb:[serial=SERIAL|bus=BUS&address=ADDRESS]?transfers=TRANSFERS"))
      << all;
  EXPECT_TRUE(contains(all, backends::uri_help("sim"))) << all;
  EXPECT_EQ(kind_of([] { backends::uri_help("nope"); }), ErrorKind::kNotFound);
}

TEST(UriParameters, EveryDefaultIsAcceptedByItsOwnTable) {
  for (const auto& table : backends::builtin_registry().uri_tables()) {
    for (const auto& parameter : table.parameters) {
      if (!parameter.has_default())
        continue;
      DeviceAddress address{table.scheme, "", {}};
      if (parameter.place == UriParameterPlace::kTarget)
        address.target = parameter.name + "=" + parameter.default_value;
      else
        address.params[parameter.name] = parameter.default_value;
      EXPECT_NO_THROW(table.validate(address)) << address.to_string();
    }
  }
}

TEST(UriParameters, DefaultAddressesSpellOutTheTableDefaults) {
  for (const std::string_view uri : {backends::kDefaultResonatorUri, backends::kDefaultPbitUri}) {
    const auto address = DeviceAddress::parse(uri);
    bool found = false;
    for (const auto& table : backends::builtin_registry().uri_tables(address.scheme)) {
      if (table.target != address.target)
        continue;
      found = true;
      table.validate(address);
      for (const auto& [key, value] : address.params)
        EXPECT_EQ(table.find(key).value().default_value, value) << uri;
    }
    EXPECT_TRUE(found) << "no table for " << uri;
  }
}

TEST(UriParameters, DefaultAddressesOpen) {
  const auto resonator = backends::open(backends::kDefaultResonatorUri);
  EXPECT_EQ(resonator->description().family, BoardFamily::kResonator);
  EXPECT_EQ(resonator->description().cells, 8u);
  const auto pbit = backends::open(backends::kDefaultPbitUri);
  EXPECT_EQ(pbit->description().family, BoardFamily::kPbit);
  // find() lists exactly these two as the emulated boards.
  const auto listed = backends::find("sim");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].to_string(),
            DeviceAddress::parse(backends::kDefaultResonatorUri).to_string());
  EXPECT_EQ(listed[1].to_string(), DeviceAddress::parse(backends::kDefaultPbitUri).to_string());
}

TEST(UriParameters, RegistryRefusesATableOfAnotherScheme) {
  Registry registry;
  Backend backend{"x",
                  "test",
                  [](const DeviceAddress&) { return std::vector<DeviceAddress>{}; },
                  [](const DeviceAddress&) -> std::unique_ptr<Transport> { return nullptr; },
                  {toy_table()}};
  EXPECT_EQ(kind_of([&] { registry.add(backend); }), ErrorKind::kInvalidArgument);
  backend.uri_tables.front().scheme = "x";
  registry.add(backend);
  EXPECT_TRUE(contains(registry.uri_help("x"), "x:board?cells=CELLS")) << registry.uri_help("x");
}

}  // namespace
}  // namespace kelvin::driver
