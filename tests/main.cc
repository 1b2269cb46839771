// The test binary's entry point: GoogleTest plus one switch of our own,
// --rewrite, which regenerates golden files for review as a diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "tests/golden.h"

namespace synod::testing {
bool rewrite_goldens = false;
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (const char* env = std::getenv("SYNOD_REWRITE"); env && std::strcmp(env, "1") == 0) {
    synod::testing::rewrite_goldens = true;
  }
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rewrite") == 0) synod::testing::rewrite_goldens = true;
  }
  return RUN_ALL_TESTS();
}
