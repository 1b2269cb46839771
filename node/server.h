// The server: one validator process (`synod server`). It opens the LMDB store
// and safety record, builds the replica from the genesis and the store's
// recovery, and runs the shared Driver (core/driver.h) from one Asio thread,
// the only thread that touches the replica. Peers and clients reach it
// through net/'s PeerNetwork; the backup schedule runs on a timer. SIGINT and
// SIGTERM stop it cleanly: the current input finishes, peers get a goodbye,
// the store closes. SIGKILL loses nothing acknowledged (the store's contract).
#pragma once

#include <functional>
#include <string>

#include "node/config.h"

namespace synod::node {

struct ServerOptions {
  PrivateConfig config;
  Genesis genesis;
  // Called with each log line's level (0 error .. 4 trace) and text.
  std::function<void(int level, const std::string& line)> log;
  // Sets the lowest level logged (0 error .. 4 trace): the admin port's /log-level.
  std::function<void(int level)> set_log_level;
};

// Runs until a stop signal; returns the process's exit code (0 after a clean
// stop, 1 when the store or the port could not be opened, with the reason logged).
int run_server(const ServerOptions& options);

}  // namespace synod::node
