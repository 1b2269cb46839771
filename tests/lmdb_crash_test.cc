// SIGKILL at random moments, with real processes: a child (crash_child.cc)
// commits blocks in a loop and acknowledges each through a pipe; the parent
// kills it, reopens the store, and checks that the ledger is consistent, that
// no acknowledged commit is missing, and that the safety record never went
// backwards. The seed is printed so that a failure can be replayed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <random>
#include <thread>

#include "node/lmdb_store.h"
#include "tests/store_test_util.h"

namespace synod {
namespace {

constexpr int kills_count = 60;
constexpr auto run_time_max = std::chrono::seconds(50);

struct Acks {
  std::uint64_t height = 0;
  std::uint64_t round = 0;
};

// Starts the child with its stdout on a pipe; returns its pid and the pipe's read end.
std::pair<pid_t, int> start_child(const std::filesystem::path& dir) {
  int fds[2];
  SYNOD_ASSERT(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  SYNOD_ASSERT(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl(SYNOD_CRASH_CHILD, SYNOD_CRASH_CHILD, dir.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(fds[1]);
  return {pid, fds[0]};
}

// Blocks until the child acknowledged its first write, so that the kill lands
// while it commits however slowly it starts (a sanitizer build starts slowly).
// Returns what it read, which read_acks takes as the start of the stream.
std::string wait_first_ack(int fd) {
  std::string text;
  char buffer[256];
  while (text.find('\n') == std::string::npos) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

// Everything the child acknowledged, read after its death (the pipe keeps it).
Acks read_acks(int fd, std::string text, Acks acks) {
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  std::size_t at = 0;
  for (std::size_t end; (end = text.find('\n', at)) != std::string::npos; at = end + 1) {
    const std::uint64_t value = std::stoull(text.substr(at + 2, end - at - 2));
    if (text[at] == 'C') acks.height = value;
    if (text[at] == 'S') acks.round = value;
  }
  return acks;
}

TEST(LmdbCrash, SigkillAtRandomMomentsLosesNothingAcknowledged) {
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  TempDir dir("crash");
  const Genesis genesis = storage_genesis();
  const PublicKey key = KeyPair::from_label("validator-0").public_key;
  const auto started = std::chrono::steady_clock::now();

  Acks acked;
  std::uint64_t round_seen = 0;
  int kills = 0;
  for (; kills < kills_count && std::chrono::steady_clock::now() - started < run_time_max; ++kills) {
    auto [pid, fd] = start_child(dir.path());
    std::string first = wait_first_ack(fd);
    ASSERT_FALSE(first.empty()) << "the child died before its first write";
    std::this_thread::sleep_for(std::chrono::microseconds(5000 + rng() % 75000));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited by itself, status " << status;
    acked = read_acks(fd, std::move(first), acked);

    auto store = node::LmdbStore::open(dir.path(), genesis, key);
    ASSERT_TRUE(store.has_value()) << to_string(store.error());
    auto recovery = (*store)->load();
    ASSERT_TRUE(recovery.has_value()) << "after kill " << kills << ": " << to_string(recovery.error());
    ASSERT_GE(recovery->committed.size(), acked.height) << "an acknowledged commit is missing";
    ASSERT_TRUE(recovery->safety.has_value()) << "after kill " << kills;
    const std::uint64_t round = recovery->safety->voted_round.value;
    ASSERT_GE(round, acked.round) << "an acknowledged safety record is missing";
    ASSERT_GE(round, round_seen) << "the safety record went backwards";
    round_seen = round;
    EXPECT_EQ((*store)->committed_height(), Height(recovery->committed.size()));
  }
  EXPECT_GE(kills, 50) << "ran out of time";

  // The whole ledger replays to the stored state roots, and the account state
  // LMDB kept equals the one execution gives.
  auto store = node::LmdbStore::open(dir.path(), genesis, key);
  ASSERT_TRUE(store.has_value());
  auto recovery = (*store)->load();
  ASSERT_TRUE(recovery.has_value());
  // Every kill lands after the child began writing, so commits outnumber kills.
  EXPECT_GE(recovery->committed.size(), static_cast<std::size_t>(kills)) << "too few commits to mean anything";
  std::cout << "[ crash    ] " << kills << " kills, " << recovery->committed.size() << " blocks committed, seed " << seed << "\n";
  ChainBuilder replay(genesis);
  replay.resume(recovery->committed);  // asserts every state root
  for (const char* name : {"alice", "bob"}) {
    const PublicKey account = storage_account(name).public_key;
    EXPECT_EQ((*store)->account(account), replay.ledger().account(account)) << name;
  }
}

}  // namespace
}  // namespace synod
