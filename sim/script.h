// Scripted interaction runs: a small text format that drives a manual
// Cluster (messages wait until delivered) and records what every step caused,
// so replica behaviour is reviewed as golden text. Lines starting with "> "
// are commands; lines starting with "#" are kept as comments; every other line
// is output and is regenerated.
//
//   > cluster weights=1,1,1,2 timeout=1000   (optional, first; default 4 equal nodes)
//   > status                  each node's round, committed height, high QC, sync state
//   > queued                  the messages in flight
//   > deliver [A->B]          deliver the queued messages (A or B may be *)
//   > stabilize               deliver until nothing is queued
//   > drop [A->B]             drop queued messages
//   > tick MS                 advance time; nodes whose deadline passed wake up
//   > partition 0,1 | 2,3     cut the links between groups; `heal` restores them
//   > crash N / restart N     stop a node; start it again from its own store
//   > submit N FROM TO AMOUNT a client sends a signed transfer between accounts via node N
#pragma once

#include <string>

namespace synod::sim {

// Runs the commands found in `script` and returns the full transcript.
std::string run_script(const std::string& script);

}  // namespace synod::sim
