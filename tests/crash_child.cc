// synod_crash_child DIR: the process the SIGKILL crash test kills. It opens
// the LmdbStore in DIR, continues the chain it finds, and loops forever: save
// a safety record one round higher, then commit one block, acknowledging each
// on stdout ("S <round>", "C <height>") only after the store call returned,
// as the node acknowledges only what is durable. Test-only; never installed.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "node/lmdb_store.h"
#include "tests/store_test_util.h"

namespace {

void acknowledge(char what, std::uint64_t value) {
  const std::string line = std::string(1, what) + " " + std::to_string(value) + "\n";
  // One write(2) per line, unbuffered: what the parent reads was acknowledged.
  if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace synod;
  if (argc != 2) {
    std::fprintf(stderr, "usage: synod_crash_child DIR\n");
    return 2;
  }
  const Genesis genesis = storage_genesis();
  auto store = node::LmdbStore::open(argv[1], genesis, KeyPair::from_label("validator-0").public_key);
  if (!store) {
    std::fprintf(stderr, "crash child: %s\n", to_string(store.error()).c_str());
    return 1;
  }
  auto recovery = (*store)->load();
  if (!recovery) {
    std::fprintf(stderr, "crash child: %s\n", to_string(recovery.error()).c_str());
    return 1;
  }
  ChainBuilder chain(genesis);
  chain.resume(recovery->committed);
  std::uint64_t round = recovery->safety ? recovery->safety->voted_round.value : 0;
  for (;;) {
    (*store)->save_safety(record_at(++round));
    acknowledge('S', round);
    const CommittedBlock c = chain.next(20);
    (*store)->save_blocks({c.block});
    (*store)->save_commits({c});
    acknowledge('C', c.block->height().value);
  }
}
