// Links every imported target of kelvin's CMake package (tests/install): it builds only when each
// target's own dependencies are found, and prints their names for the test to check.
#include <cstdio>

int main() {
  std::printf("kelvin targets: %s\n", KELVIN_TARGETS);
  return 0;
}
