// Scripted interaction tests: every tests/testdata/scripts/*.txt is run by
// sim::run_script and must reproduce itself exactly (commands and output).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/script.h"
#include "tests/golden.h"

namespace synod::sim {
namespace {

std::vector<std::string> script_names() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(SYNOD_TESTDATA_DIR "/scripts")) {
    if (entry.path().extension() == ".txt") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class Script : public ::testing::TestWithParam<std::string> {};

TEST_P(Script, ReproducesItsGoldenTranscript) {
  const std::string path = std::string(SYNOD_TESTDATA_DIR "/scripts/") + GetParam() + ".txt";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream expected;
  expected << in.rdbuf();
  const std::string actual = run_script(expected.str());
  EXPECT_EQ(actual.find("error:"), std::string::npos) << actual;
  EXPECT_EQ(actual.find("VIOLATION"), std::string::npos) << actual;
  if (synod::testing::rewrite_goldens) {
    std::ofstream(path) << actual;
    return;
  }
  EXPECT_EQ(actual, expected.str()) << "rerun with --rewrite and review `git diff " << path << "`";
}

INSTANTIATE_TEST_SUITE_P(Golden, Script, ::testing::ValuesIn(script_names()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace synod::sim
