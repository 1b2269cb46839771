// LmdbStore: block commit throughput (one LMDB write transaction, fsynced, per
// committed block; blocks/s and tx/s for 1,000-transaction blocks), the cost
// of the safety record (atomic file write: two fsyncs and a rename), and a
// plain fsync of this disk for comparison. Blocks are built before timing.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include "node/lmdb_store.h"
#include "tests/store_test_util.h"

namespace {

using namespace synod;

std::unique_ptr<node::LmdbStore> open_store(const std::filesystem::path& dir, const Genesis& genesis) {
  auto store = node::LmdbStore::open(dir, genesis, KeyPair::from_label("validator-0").public_key);
  SYNOD_ASSERT(store.has_value());
  return std::move(*store);
}

void BM_StoreCommitBlock(benchmark::State& state) {
  const auto txs = static_cast<std::size_t>(state.range(0));
  const Genesis genesis = storage_genesis();
  TempDir dir("bench-commit");
  auto store = open_store(dir.path(), genesis);
  ChainBuilder chain(genesis);
  std::vector<CommittedBlock> blocks;
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == blocks.size()) {
      state.PauseTiming();
      blocks.clear();
      next = 0;
      for (int i = 0; i < 50; ++i) blocks.push_back(chain.next(txs));
      state.ResumeTiming();
    }
    store->save_commits({blocks[next++]});
  }
  state.counters["blocks/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["tx/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * txs), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StoreCommitBlock)->Arg(0)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_StoreSafetyRecord(benchmark::State& state) {
  TempDir dir("bench-safety");
  auto store = open_store(dir.path(), storage_genesis());
  std::uint64_t round = 0;
  for (auto _ : state) store->save_safety(record_at(++round));
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StoreSafetyRecord)->Unit(benchmark::kMicrosecond)->UseRealTime();

// One 4 KiB write and fsync: the floor under every durable step above.
void BM_StoreFsync(benchmark::State& state) {
  TempDir dir("bench-fsync");
  const std::filesystem::path file = dir.path() / "fsync";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  SYNOD_ASSERT(fd >= 0);
  const Bytes page(4096, 0x5a);
  for (auto _ : state) {
    SYNOD_ASSERT(::pwrite(fd, page.data(), page.size(), 0) == static_cast<ssize_t>(page.size()));
    SYNOD_ASSERT(::fsync(fd) == 0);
  }
  ::close(fd);
}
BENCHMARK(BM_StoreFsync)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
