// `synod demo` and `synod testnet`'s foreground loop: the main job of
// `make demo` (a four-node testnet of real processes under load, one node
// killed with SIGKILL and restarted, the ledgers compared after a clean stop,
// then a simulated sweep) and the live status of a testnet until Ctrl-C.
#pragma once

#include <filesystem>
#include <string>

#include "node/load.h"
#include "node/testnet.h"

namespace synod::node {

struct DemoOptions {
  std::filesystem::path synod;  // this binary
  std::filesystem::path dir;    // empty: a new temporary folder
  double load_seconds = 12;
  double tx_per_s = 300;
};

int run_demo(const DemoOptions& options);
int run_testnet_until_interrupted(const TestnetOptions& options);
std::string format_report(const LoadReport& r);
// The committed rate beside the machine's verification limit, as a ratio.
std::string format_limit(const VerifyLimit& limit, const LoadReport& r);

}  // namespace synod::node
