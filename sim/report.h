// Reports of simulation runs: JSON for machines (one object per seed) and a
// self-contained HTML page with inline SVG for people: committed height over
// virtual time per instance with fault spans shaded, and a histogram of
// transaction commit latency. No scripts, no external files.
#pragma once

#include <string>

#include "sim/swarm.h"

namespace synod::sim {

// One run as a JSON object (a single line).
std::string json_result(const RunOptions& options, const RunResult& result);
std::string html_report(const RunOptions& options, const RunResult& result);

// What heads a report: its title, the command that replays the run, and what
// the run was made of.
struct ReportHeading {
  std::string title;
  std::string reproduce;
  std::string description;
};
std::string html_report(const ReportHeading& heading, const RunResult& result);

}  // namespace synod::sim
