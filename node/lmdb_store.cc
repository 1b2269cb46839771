// The LMDB layout (docs/storage.md): one environment file, eight named tables.
//   meta           "schema_version" u32 | "chain_id" 32 | "genesis_block" 32 |
//                  "node_key" 32 | "chain_params" 24 | "committed_height" u64 |
//                  "block_seq" u64 | "pruned_height" u64
//   commits        height u64 -> sealed CommittedBlock, or a sealed BlockHeader
//                  at and below pruned_height (core/records.h)
//   blocks         sequence u64 -> height u64 || sealed Block (uncommitted, in save order)
//   txs            tx hash -> height u64 | index u32 | error u8 (0: executed)
//   accounts       public key -> balance u64 | nonce u64
//   values         owner[32] || key -> value
//   base_accounts  as accounts, at pruned_height (the genesis state until pruning starts)
//   base_values    as values, at pruned_height
// Integers are big-endian so that LMDB's byte order is numeric order.
#include "node/lmdb_store.h"

#include <fcntl.h>
#include <lmdb.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <map>

#include "core/assert.h"
#include "core/records.h"
#include "core/sign_bytes.h"
#include "node/safety_file.h"

namespace synod::node {

namespace {

// The node's chains hash with SHA-256 (ed25519_scheme().digest()); a store
// never holds a simulated chain.
constexpr Digest chain_digest = &sha256;
constexpr unsigned tables_max = 8;
constexpr std::string_view k_schema = "schema_version";
constexpr std::string_view k_chain = "chain_id";
constexpr std::string_view k_genesis = "genesis_block";
constexpr std::string_view k_node = "node_key";
constexpr std::string_view k_params = "chain_params";
constexpr std::string_view k_height = "committed_height";
constexpr std::string_view k_seq = "block_seq";
constexpr std::string_view k_pruned = "pruned_height";
// Two meta pages: anything shorter is not an LMDB file we wrote.
constexpr std::uintmax_t ledger_bytes_min = 2 * 4096;

Bytes be64(std::uint64_t v) {
  Bytes out;
  put_u64(out, v);
  return out;
}

MDB_val val(ByteView v) { return MDB_val{v.size(), const_cast<std::uint8_t*>(v.data())}; }
MDB_val val(std::string_view v) { return MDB_val{v.size(), const_cast<char*>(v.data())}; }
ByteView view(const MDB_val& v) { return {static_cast<const std::uint8_t*>(v.mv_data), v.mv_size}; }

bool is_corruption(int rc) {
  return rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ||
         rc == MDB_BAD_TXN || rc == MDB_BAD_VALSIZE;
}

StoreError lmdb_error(std::string_view call, const std::filesystem::path& path, int rc) {
  const StoreErrorKind kind = is_corruption(rc) ? StoreErrorKind::CorruptLedger : StoreErrorKind::Io;
  return StoreError{kind, std::string(call) + " " + path.string() + ": " + mdb_strerror(rc)};
}

StoreError corrupt(const std::filesystem::path& path, const std::string& what) {
  return StoreError{StoreErrorKind::CorruptLedger, path.string() + ": " + what};
}

// Writes that fail leave the node unable to keep its promises: stop.
void must(int rc, std::string_view what) {
  if (rc != MDB_SUCCESS) stop_process(std::string("ledger ") + std::string(what) + ": " + mdb_strerror(rc));
}

class Txn {
 public:
  Txn(MDB_env* env, bool write) : write_(write) { rc_ = mdb_txn_begin(env, nullptr, write ? 0 : MDB_RDONLY, &txn_); }
  ~Txn() {
    if (txn_) mdb_txn_abort(txn_);
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  int status() const { return rc_; }
  MDB_txn* get() const { return txn_; }
  int commit() {
    const int rc = mdb_txn_commit(std::exchange(txn_, nullptr));
    return rc;
  }
  std::optional<ByteView> read(MDB_dbi dbi, MDB_val key, int* rc_out = nullptr) const {
    MDB_val data;
    const int rc = mdb_get(txn_, dbi, &key, &data);
    if (rc_out) *rc_out = rc;
    if (rc != MDB_SUCCESS) return std::nullopt;
    return view(data);
  }
  void put(MDB_dbi dbi, MDB_val key, MDB_val data) {
    SYNOD_ASSERT(write_);
    must(mdb_put(txn_, dbi, &key, &data, 0), "put");
  }

 private:
  MDB_txn* txn_ = nullptr;
  int rc_ = MDB_SUCCESS;
  bool write_;
};

Bytes encode_params(const ChainParams& p) {
  Bytes out;
  put_u32(out, p.block_txs_max);
  put_u64(out, p.block_bytes_max);
  put_u32(out, p.tx_bytes_max);
  put_u32(out, p.value_bytes_max);
  put_u32(out, p.key_bytes_max);
  return out;
}

ChainParams decode_params(ByteView in) {
  return ChainParams{static_cast<std::uint32_t>(get_be(in, 0, 4)), get_be(in, 4, 8),
                     static_cast<std::uint32_t>(get_be(in, 12, 4)), static_cast<std::uint32_t>(get_be(in, 16, 4)),
                     static_cast<std::uint32_t>(get_be(in, 20, 4))};
}

Bytes encode_account(const Account& a) {
  Bytes out;
  put_u64(out, a.balance);
  put_u64(out, a.nonce);
  return out;
}

// Callers that can refuse check the length first; the others (a commit, a
// read) meet damage they cannot answer and stop with words, not an assert:
// the bytes came from a disk, not from our mistake.
Account decode_account(ByteView in) {
  if (in.size() != 16) {
    stop_process("ledger: an accounts entry is " + std::to_string(in.size()) +
                 " bytes, not 16: the ledger is damaged; restore a backup (synod restore)");
  }
  return Account{get_be(in, 0, 8), get_be(in, 8, 8)};
}

TxLocation decode_location(ByteView in) {
  if (in.size() != 13) {
    stop_process("ledger: a transaction index entry is " + std::to_string(in.size()) +
                 " bytes, not 13: the ledger is damaged; restore a backup (synod restore)");
  }
  TxLocation loc{Height(get_be(in, 0, 8)), static_cast<std::uint32_t>(get_be(in, 8, 4)), std::nullopt};
  if (in[12] != 0) loc.error = static_cast<TxError>(in[12]);
  return loc;
}

Bytes value_key(const PublicKey& owner, ByteView key) {
  Bytes k(owner.bytes.begin(), owner.bytes.end());
  k.insert(k.end(), key.begin(), key.end());
  return k;
}

// Applies one committed block's executed transactions to one copy of the
// state (the tip's tables, or the pruned base's), exactly as the Ledger
// applied them (core/ledger.cc).
void apply_block(Txn& txn, MDB_dbi accounts, MDB_dbi values, const Block& b, const BlockOutcome& outcome) {
  const auto account = [&](const PublicKey& key) {
    auto v = txn.read(accounts, val(key.view()));
    return v ? decode_account(*v) : Account{};
  };
  for (std::size_t i = 0; i < b.txs.size(); ++i) {
    if (outcome.txs[i].error) continue;
    const Transaction& tx = b.txs[i];
    Account sender = account(tx.sender);
    sender.nonce += 1;
    if (const auto* t = std::get_if<Transfer>(&tx.op)) {
      SYNOD_ASSERT(t->amount <= sender.balance);
      if (t->to != tx.sender) {
        sender.balance -= t->amount;
        Account receiver = account(t->to);
        receiver.balance += t->amount;
        txn.put(accounts, val(t->to.view()), val(encode_account(receiver)));
      }
    } else {
      const auto& s = std::get<StoreValue>(tx.op);
      txn.put(values, val(value_key(tx.sender, s.key)), val(s.value));
    }
    txn.put(accounts, val(tx.sender.view()), val(encode_account(sender)));
  }
}

// LMDB keeps its reader table in the lock file and writes it through a
// memory map: on a full filesystem that write is a SIGBUS, not an error. So
// the lock file is made first, its blocks reserved, and a full disk is a
// typed error before LMDB maps anything. Larger than LMDB's own size for 126
// readers (about 8 KiB), which it then keeps.
constexpr std::uintmax_t lock_file_bytes = 16 * 1024;

std::optional<StoreError> reserve_lock_file(const std::filesystem::path& ledger) {
  const std::filesystem::path lock = ledger.string() + "-lock";
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("open", lock, errno);
  const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(lock_file_bytes));
  ::close(fd);
  if (rc == ENOSPC) return space_error("reserve", lock, lock_file_bytes);
  if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) return io_error("reserve", lock, rc);
  return std::nullopt;
}

}  // namespace

struct LmdbStore::Env {
  std::filesystem::path path;
  MDB_env* env = nullptr;
  MDB_dbi meta = 0, commits = 0, blocks = 0, txs = 0, accounts = 0, values = 0, base_accounts = 0, base_values = 0;
  ~Env() {
    if (env) mdb_env_close(env);
  }

  enum class Mode : std::uint8_t { Create, Write, Read, ReadUnlocked };

  // Opens the file; for every mode but Create, first checks that it is not
  // truncated, and opens the tables without creating any.
  static std::expected<std::unique_ptr<Env>, StoreError> open(const std::filesystem::path& path, Mode mode,
                                                              std::size_t map_bytes) {
    auto e = std::make_unique<Env>();
    e->path = path;
    if (mode != Mode::Create) {
      std::error_code ec;
      const std::uintmax_t size = std::filesystem::file_size(path, ec);
      if (ec) return std::unexpected(io_error("stat", path, ec.value()));
      if (size < ledger_bytes_min) return std::unexpected(corrupt(path, "truncated to " + std::to_string(size) + " bytes"));
    }
    if (mode != Mode::ReadUnlocked) {
      if (auto e_lock = reserve_lock_file(path)) return std::unexpected(*e_lock);
    }
    int rc = mdb_env_create(&e->env);
    if (rc != MDB_SUCCESS) return std::unexpected(lmdb_error("mdb_env_create", path, rc));
    mdb_env_set_maxdbs(e->env, tables_max);
    if (mode == Mode::Create || mode == Mode::Write) mdb_env_set_mapsize(e->env, map_bytes);
    unsigned flags = MDB_NOSUBDIR | MDB_NOTLS;
    if (mode == Mode::Read) flags |= MDB_RDONLY;
    if (mode == Mode::ReadUnlocked) flags |= MDB_RDONLY | MDB_NOLOCK;
    rc = mdb_env_open(e->env, path.c_str(), flags, 0600);
    if (rc != MDB_SUCCESS) return std::unexpected(lmdb_error("mdb_env_open", path, rc));
    if (mode != Mode::Create) {
      MDB_envinfo info;
      MDB_stat stat;
      mdb_env_info(e->env, &info);
      mdb_env_stat(e->env, &stat);
      const std::uintmax_t needed = (std::uintmax_t{info.me_last_pgno} + 1) * stat.ms_psize;
      std::error_code ec;
      const std::uintmax_t size = std::filesystem::file_size(path, ec);
      if (ec) return std::unexpected(io_error("stat", path, ec.value()));
      if (size < needed) {
        return std::unexpected(corrupt(path, "truncated: " + std::to_string(size) + " bytes of " + std::to_string(needed)));
      }
    }
    Txn txn(e->env, mode == Mode::Create);
    if (txn.status() != MDB_SUCCESS) return std::unexpected(lmdb_error("mdb_txn_begin", path, txn.status()));
    const unsigned table_flags = mode == Mode::Create ? MDB_CREATE : 0;
    for (auto [name, dbi] : {std::pair{"meta", &e->meta}, std::pair{"commits", &e->commits},
                             std::pair{"blocks", &e->blocks}, std::pair{"txs", &e->txs},
                             std::pair{"accounts", &e->accounts}, std::pair{"values", &e->values},
                             std::pair{"base_accounts", &e->base_accounts}, std::pair{"base_values", &e->base_values}}) {
      rc = mdb_dbi_open(txn.get(), name, table_flags, dbi);
      if (rc == MDB_NOTFOUND) return std::unexpected(corrupt(path, std::string("table ") + name + " missing"));
      if (rc != MDB_SUCCESS) return std::unexpected(lmdb_error("mdb_dbi_open", path, rc));
    }
    rc = txn.commit();
    if (rc != MDB_SUCCESS) return std::unexpected(lmdb_error("mdb_txn_commit", path, rc));
    return e;
  }

  std::expected<LedgerSummary, StoreError> summary() const {
    Txn txn(env, false);
    if (txn.status() != MDB_SUCCESS) return std::unexpected(lmdb_error("mdb_txn_begin", path, txn.status()));
    LedgerSummary s;
    const auto field = [&](std::string_view key, std::size_t size) -> std::expected<ByteView, StoreError> {
      int rc = MDB_SUCCESS;
      auto v = txn.read(meta, val(key), &rc);
      if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return std::unexpected(lmdb_error("mdb_get", path, rc));
      if (!v || v->size() != size) return std::unexpected(corrupt(path, "metadata " + std::string(key) + " missing or damaged"));
      return *v;
    };
    auto schema = field(k_schema, 4);
    if (!schema) return std::unexpected(schema.error());
    s.schema_version = static_cast<std::uint32_t>(get_be(*schema, 0, 4));
    if (s.schema_version > store_schema_version) {
      return std::unexpected(StoreError{StoreErrorKind::SchemaTooNew,
                                        path.string() + ": schema " + std::to_string(s.schema_version) +
                                            ", this synod reads up to " + std::to_string(store_schema_version)});
    }
    if (s.schema_version == 0) return std::unexpected(corrupt(path, "schema version 0"));
    for (auto [key, out] : {std::pair{k_chain, s.chain.bytes.data()}, std::pair{k_genesis, s.genesis_block.bytes.data()},
                            std::pair{k_node, s.node.bytes.data()}}) {
      auto v = field(key, 32);
      if (!v) return std::unexpected(v.error());
      std::copy(v->begin(), v->end(), out);
    }
    auto params = field(k_params, 24);
    if (!params) return std::unexpected(params.error());
    s.params = decode_params(*params);
    auto height = field(k_height, 8);
    if (!height) return std::unexpected(height.error());
    s.committed_height = Height(get_be(*height, 0, 8));
    auto pruned = field(k_pruned, 8);
    if (!pruned) return std::unexpected(pruned.error());
    s.pruned_height = Height(get_be(*pruned, 0, 8));
    // A pruned ledger keeps at least its newest body.
    if (s.pruned_height > Height(0) && s.pruned_height >= s.committed_height) {
      return std::unexpected(corrupt(path, "pruned up to height " + std::to_string(s.pruned_height.value) +
                                               " of " + std::to_string(s.committed_height.value)));
    }
    return s;
  }

  // Calls `visit(key, value)` for each entry of `dbi` in key order, in one read
  // transaction; stops at the first error it returns.
  template <class Visit>
  std::optional<StoreError> scan(MDB_dbi dbi, Visit visit) const {
    Txn txn(env, false);
    if (txn.status() != MDB_SUCCESS) return lmdb_error("mdb_txn_begin", path, txn.status());
    MDB_cursor* cursor = nullptr;
    int rc = mdb_cursor_open(txn.get(), dbi, &cursor);
    if (rc != MDB_SUCCESS) return lmdb_error("mdb_cursor_open", path, rc);
    MDB_val key, data;
    for (rc = mdb_cursor_get(cursor, &key, &data, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cursor, &key, &data, MDB_NEXT)) {
      if (auto error = visit(view(key), view(data))) {
        mdb_cursor_close(cursor);
        return error;
      }
    }
    mdb_cursor_close(cursor);
    if (rc != MDB_NOTFOUND) return lmdb_error("reading", path, rc);
    return std::nullopt;
  }

  // The committed chain as stored: a header at each pruned height, then the
  // kept blocks. Each is checked: its checksum, its height, its link to the
  // one below, and a kept block's QC.
  struct StoredChain {
    std::optional<BlockHeader> last_pruned;
    std::vector<CommittedBlock> kept;
  };
  std::expected<StoredChain, StoreError> committed_chain(const LedgerSummary& s) const {
    StoredChain chain;
    Height height;
    BlockId parent = s.genesis_block;
    auto error = scan(commits, [&](ByteView key, ByteView data) -> std::optional<StoreError> {
      height = height.next();
      const std::string at = "committed block at height " + std::to_string(height.value);
      if (key.size() != 8 || Height(get_be(key, 0, 8)) != height) return corrupt(path, at + " is missing");
      if (height <= s.pruned_height) {
        auto h = open_block_header(data);
        if (!h) return corrupt(path, at + ", pruned: " + std::string(to_string(h.error())));
        if (h->height != height || h->parent != parent) return corrupt(path, at + " does not link to the one below");
        parent = h->id;
        chain.last_pruned = *h;
        return std::nullopt;
      }
      auto c = open_committed_block(chain_digest, s.chain, s.params, data);
      if (!c) return corrupt(path, at + ": " + std::string(to_string(c.error())));
      if (c->block->height() != height || c->block->parent() != parent) {
        return corrupt(path, at + " does not link to the one below");
      }
      parent = c->block->id;
      chain.kept.push_back(std::move(*c));
      return std::nullopt;
    });
    if (error) return std::unexpected(*error);
    if (height != s.committed_height) {
      return std::unexpected(corrupt(path, "holds " + std::to_string(height.value) + " committed blocks, metadata says " +
                                               std::to_string(s.committed_height.value)));
    }
    return chain;
  }

  // The ledger state right after the last pruned block: the base tables, and
  // the transaction index up to that height (an index entry names the height
  // of the transaction's first, real fate).
  std::expected<LedgerState, StoreError> base_state(const BlockHeader& last_pruned) const {
    LedgerState state{last_pruned.height, last_pruned.state_root, {}, {}, {}};
    auto error = scan(base_accounts, [&](ByteView key, ByteView data) -> std::optional<StoreError> {
      PublicKey account;
      if (!PublicKey::from(key, account) || data.size() != 16) return corrupt(path, "base account damaged");
      state.accounts.emplace(account, decode_account(data));
      return std::nullopt;
    });
    if (!error) {
      error = scan(base_values, [&](ByteView key, ByteView data) -> std::optional<StoreError> {
        PublicKey owner;
        if (key.size() < PublicKey::size || !PublicKey::from(key.first(PublicKey::size), owner)) {
          return corrupt(path, "base value key damaged");
        }
        const ByteView name = key.subspan(PublicKey::size);
        state.values.emplace(std::pair(owner, Bytes(name.begin(), name.end())), Bytes(data.begin(), data.end()));
        return std::nullopt;
      });
    }
    if (!error) {
      error = scan(txs, [&](ByteView key, ByteView data) -> std::optional<StoreError> {
        TxHash hash;
        if (!TxHash::from(key, hash) || data.size() != 13) return corrupt(path, "transaction index entry damaged");
        const TxLocation location = decode_location(data);
        if (location.height <= last_pruned.height) state.txs.emplace(hash, location);
        return std::nullopt;
      });
    }
    if (error) return std::unexpected(*error);
    return state;
  }

  // What a replica restarts from: the kept blocks into `out.committed` and,
  // when pruned, the state below them into `out.base`.
  // Every entry of one copy of the state (the tip's accounts, values and
  // transaction index, or the base's accounts and values) against `ledger`,
  // and their counts: the first difference, naming the table and the key.
  // What a flipped bit in the state looks like when no checksum covers it.
  struct StateTables {
    MDB_dbi accounts, values;
    std::optional<MDB_dbi> txs;
    const char* accounts_name;
    const char* values_name;
  };
  std::optional<StoreError> compare_state(const Ledger& ledger, const StateTables& tables) const {
    // Visits every entry; `same` says whether it is the chain's state.
    const auto each = [&](MDB_dbi dbi, const char* table, std::size_t expected,
                          const auto& same) -> std::optional<StoreError> {
      std::size_t count = 0;
      auto error = scan(dbi, [&](ByteView key, ByteView data) -> std::optional<StoreError> {
        ++count;
        if (same(key, data)) return std::nullopt;
        return corrupt(path, std::string(table) + ": the entry of " + hex(key) + " is not the chain's state");
      });
      if (error) return error;
      if (count == expected) return std::nullopt;
      return corrupt(path, std::string(table) + ": " + std::to_string(count) + " entries, the chain's state has " +
                               std::to_string(expected));
    };
    const Ledger::Sizes sizes = ledger.sizes();
    if (auto e = each(tables.accounts, tables.accounts_name, sizes.accounts, [&](ByteView k, ByteView v) {
          PublicKey key;
          return PublicKey::from(k, key) && v.size() == 16 && ledger.account(key) == decode_account(v);
        })) {
      return e;
    }
    if (auto e = each(tables.values, tables.values_name, sizes.values, [&](ByteView k, ByteView v) {
          PublicKey owner;
          if (k.size() <= PublicKey::size || !PublicKey::from(k.first(PublicKey::size), owner)) return false;
          const auto value = ledger.value(owner, Bytes(k.begin() + PublicKey::size, k.end()));
          return value && std::equal(value->begin(), value->end(), v.begin(), v.end());
        })) {
      return e;
    }
    if (!tables.txs) return std::nullopt;
    return each(*tables.txs, "txs", sizes.txs, [&](ByteView k, ByteView v) {
      TxHash hash;
      return TxHash::from(k, hash) && v.size() == 13 && ledger.find_tx(hash) == decode_location(v);
    });
  }

  std::optional<StoreError> load_chain(const LedgerSummary& s, Recovery& out) const {
    auto chain = committed_chain(s);
    if (!chain) return chain.error();
    out.committed = std::move(chain->kept);
    if (!chain->last_pruned) return std::nullopt;
    auto state = base_state(*chain->last_pruned);
    if (!state) return state.error();
    out.base = PrunedBase{chain->last_pruned->id, std::move(*state)};
    return std::nullopt;
  }

  // LMDB's list of free pages (its table 0), which every write transaction
  // reads and rewrites: each entry must be a count then that many page
  // numbers, each past the two meta pages and inside the file. A damaged one
  // would hand a live or absent page to the next write.
  std::optional<StoreError> check_free_pages() const {
    MDB_envinfo info;
    if (int rc = mdb_env_info(env, &info); rc != MDB_SUCCESS) return lmdb_error("mdb_env_info", path, rc);
    const auto check_entry = [&](const MDB_val& data) -> std::optional<StoreError> {
      const std::size_t words = data.mv_size / sizeof(std::size_t);
      const auto word = [&](std::size_t i) {
        std::size_t w = 0;
        std::memcpy(&w, static_cast<const char*>(data.mv_data) + i * sizeof w, sizeof w);
        return w;
      };
      if (data.mv_size % sizeof(std::size_t) != 0 || words == 0) {
        return corrupt(path, "free pages: an entry of " + std::to_string(data.mv_size) + " bytes");
      }
      if (word(0) != words - 1) {
        return corrupt(path, "free pages: an entry counts " + std::to_string(word(0)) + " pages and holds " +
                                 std::to_string(words - 1));
      }
      for (std::size_t i = 1; i < words; ++i) {
        if (word(i) < 2 || word(i) > info.me_last_pgno) {
          return corrupt(path, "free pages: page " + std::to_string(word(i)) + " is not one of the file's (2 to " +
                                   std::to_string(info.me_last_pgno) + ")");
        }
      }
      return std::nullopt;
    };
    Txn txn(env, false);
    if (txn.status() != MDB_SUCCESS) return lmdb_error("mdb_txn_begin", path, txn.status());
    MDB_cursor* cursor = nullptr;
    int rc = mdb_cursor_open(txn.get(), 0, &cursor);
    if (rc != MDB_SUCCESS) return lmdb_error("mdb_cursor_open of the free pages", path, rc);
    std::optional<StoreError> error;
    MDB_val key, data;
    for (rc = mdb_cursor_get(cursor, &key, &data, MDB_FIRST); rc == MDB_SUCCESS && !error;
         rc = mdb_cursor_get(cursor, &key, &data, MDB_NEXT)) {
      error = check_entry(data);
    }
    mdb_cursor_close(cursor);
    if (error) return error;
    if (rc != MDB_NOTFOUND) return lmdb_error("mdb_cursor_get of the free pages", path, rc);
    return std::nullopt;
  }

  std::expected<std::vector<BlockPtr>, StoreError> pending_blocks(const LedgerSummary& s) const {
    std::vector<BlockPtr> out;
    std::uint64_t seq = 0;
    {
      Txn txn(env, false);
      if (txn.status() != MDB_SUCCESS) return std::unexpected(lmdb_error("mdb_txn_begin", path, txn.status()));
      auto v = txn.read(meta, val(k_seq));
      if (!v || v->size() != 8) return std::unexpected(corrupt(path, "metadata block_seq missing or damaged"));
      seq = get_be(*v, 0, 8);
    }
    auto error = scan(blocks, [&](ByteView key, ByteView data) -> std::optional<StoreError> {
      // save_blocks numbers blocks from block_seq on: a smaller one would overwrite a kept block.
      if (key.size() != 8 || get_be(key, 0, 8) >= seq) {
        return corrupt(path, "blocks: the key " + hex(key) + " is not below block_seq " + std::to_string(seq));
      }
      auto b = data.size() < 8 ? std::unexpected(RecordError::Truncated) : open_block(chain_digest, s.chain, s.params, data.subspan(8));
      if (!b) return corrupt(path, "stored block: " + std::string(to_string(b.error())));
      if (get_be(data, 0, 8) != (*b)->height().value) {
        return corrupt(path, "blocks: the entry " + hex(key) + " names another height than its block's");
      }
      out.push_back(std::move(*b));
      return std::nullopt;
    });
    if (error) return std::unexpected(*error);
    return out;
  }
};

namespace {

// A first start: the ledger is built under a temporary name and renamed into
// place, so that an existing ledger file is always a complete one.
std::expected<void, StoreError> create_ledger(const NodeFiles& files, const Genesis& genesis, const PublicKey& node,
                                              std::size_t map_bytes) {
  const std::filesystem::path tmp = files.ledger.string() + ".new";
  std::error_code ignored;
  std::filesystem::remove(tmp, ignored);
  std::filesystem::remove(tmp.string() + "-lock", ignored);
  auto env = LmdbStore::Env::open(tmp, LmdbStore::Env::Mode::Create, map_bytes);
  if (!env) return std::unexpected(env.error());
  {
    Txn txn((*env)->env, true);
    must(txn.status(), "begin");
    Bytes schema;
    put_u32(schema, store_schema_version);
    const ChainId chain = genesis.chain_id();
    const BlockId genesis_block = genesis_block_id(chain);
    txn.put((*env)->meta, val(k_schema), val(schema));
    txn.put((*env)->meta, val(k_chain), val(chain.view()));
    txn.put((*env)->meta, val(k_genesis), val(genesis_block.view()));
    txn.put((*env)->meta, val(k_node), val(node.view()));
    const Bytes params = encode_params(genesis.params);
    txn.put((*env)->meta, val(k_params), val(params));
    const Bytes zero = be64(0);
    txn.put((*env)->meta, val(k_height), val(zero));
    txn.put((*env)->meta, val(k_seq), val(zero));
    txn.put((*env)->meta, val(k_pruned), val(zero));
    // Genesis allocations naming one account are summed, as the Ledger does.
    // The base state starts at genesis too: nothing is pruned yet.
    std::map<PublicKey, Account> accounts;
    for (const Allocation& a : genesis.allocations) accounts[a.account].balance += a.balance;
    for (const auto& [key, account] : accounts) {
      txn.put((*env)->accounts, val(key.view()), val(encode_account(account)));
      txn.put((*env)->base_accounts, val(key.view()), val(encode_account(account)));
    }
    must(txn.commit(), "commit of the genesis state");
  }
  env->reset();
  fsync_path(tmp);
  std::error_code ec;
  std::filesystem::rename(tmp, files.ledger, ec);
  if (ec) return std::unexpected(io_error("rename", tmp, ec.value()));
  fsync_path(files.dir);
  std::filesystem::remove(tmp.string() + "-lock", ec);
  return {};
}

// Pruning (docs/storage.md): once `committed` is above the last `blocks_kept`
// bodies, each body below them moves its changes into the base state and
// becomes a header, oldest first, in the commit's own write transaction, so
// the base is always the ledger right after the last pruned block.
void prune_bodies(Txn& txn, const LmdbStore::Env& env, const ChainId& chain, const ChainParams& params,
                  Height committed, std::size_t blocks_kept) {
  if (blocks_kept == 0 || committed.value <= blocks_kept) return;
  const Height target(committed.value - blocks_kept);
  auto pruned_bytes = txn.read(env.meta, val(k_pruned));
  SYNOD_ASSERT(pruned_bytes && pruned_bytes->size() == 8);
  Height pruned(get_be(*pruned_bytes, 0, 8));
  for (std::size_t n = 0; pruned < target && n < prune_blocks_per_commit_max; ++n) {
    pruned = pruned.next();
    const Bytes key = be64(pruned.value);
    auto record = txn.read(env.commits, val(key));
    SYNOD_ASSERT(record.has_value());
    auto c = open_committed_block(chain_digest, chain, params, *record);
    if (!c) {
      stop_process("ledger: committed block at height " + std::to_string(pruned.value) +
                   " fails its checks while pruning: " + std::string(to_string(c.error())));
    }
    apply_block(txn, env.base_accounts, env.base_values, *c->block, c->outcome);
    txn.put(env.commits, val(key), val(seal_block_header(header_of(*c))));
  }
  txn.put(env.meta, val(k_pruned), val(be64(pruned.value)));
}

std::expected<void, StoreError> check_identity(const LedgerSummary& s, const std::filesystem::path& path,
                                               const Genesis& genesis, const PublicKey& node) {
  const ChainId chain = genesis.chain_id();
  if (s.chain != chain || s.genesis_block != genesis_block_id(chain)) {
    return std::unexpected(StoreError{StoreErrorKind::WrongChain, path.string() + ": chain " + hex(s.chain.view()) +
                                                                      ", expected " + hex(chain.view())});
  }
  // The chain id covers the parameters: the same id with other ones is damage.
  if (s.params != genesis.params) return std::unexpected(corrupt(path, "metadata chain_params differ from the chain's"));
  if (s.node != node) {
    return std::unexpected(StoreError{StoreErrorKind::WrongNode, path.string() + ": ledger of validator " +
                                                                     hex(s.node.view()) + ", expected " + hex(node.view())});
  }
  return {};
}

}  // namespace

std::expected<std::unique_ptr<LmdbStore>, StoreError> LmdbStore::open(const std::filesystem::path& dir,
                                                                       const Genesis& genesis,
                                                                       const PublicKey& node_key, LmdbOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::unexpected(io_error("mkdir", dir, ec.value()));
  NodeFiles files = node_files(dir, node_key);
  auto lock = FileLock::acquire(files.lock);
  if (!lock) return std::unexpected(lock.error());
  // What a restore killed before its last rename leaves: a copy, never the ledger.
  std::filesystem::remove(files.incoming, ec);

  std::error_code exists_ec;
  if (!std::filesystem::exists(files.ledger, exists_ec)) {
    // A first start writes a record before the ledger exists, so that later a
    // ledger without a record means the record was lost (AmnesiaRule).
    // A corrupt record is left for load() to report (AmnesiaRule), never
    // replaced by an empty one.
    auto record = read_safety_file(files.safety);
    if (!record && record.error().kind != StoreErrorKind::CorruptSafetyRecord) return std::unexpected(record.error());
    if (record && !*record) write_safety_file(files.safety, SafetyRecord{});
    if (auto created = create_ledger(files, genesis, node_key, options.map_bytes_max); !created) {
      return std::unexpected(created.error());
    }
  } else if (options.verify_at_open) {
    // Nothing of the file is trusted before a child process has read all of
    // it: a page tree that makes LMDB fault ends the child, not the node.
    if (auto checked = inspect_ledger_isolated(files.ledger, true, &genesis); !checked) {
      return std::unexpected(checked.error());
    }
  }
  auto env = Env::open(files.ledger, Env::Mode::Write, options.map_bytes_max);
  if (!env) return std::unexpected(env.error());
  auto summary = (*env)->summary();
  if (!summary) return std::unexpected(summary.error());
  if (auto ok = check_identity(*summary, files.ledger, genesis, node_key); !ok) {
    return std::unexpected(ok.error());
  }
  auto store = std::unique_ptr<LmdbStore>(
      new LmdbStore(std::move(files), genesis, options, std::move(*env), std::move(*lock)));
  store->committed_height_ = summary->committed_height;
  return store;
}

LmdbStore::LmdbStore(NodeFiles files, const Genesis& genesis, const LmdbOptions& options, std::unique_ptr<Env> env,
                     FileLock lock)
    : files_(std::move(files)),
      chain_(genesis.chain_id()),
      params_(genesis.params),
      genesis_block_(genesis_block_id(chain_)),
      blocks_kept_(options.blocks_kept),
      env_(std::move(env)),
      lock_(std::move(lock)) {}

LmdbStore::~LmdbStore() = default;

void LmdbStore::save_safety(const SafetyRecord& record) {
  if (dead_) return;
  // The record only moves forward; a step back is our own bug.
  if (saved_voted_round_) SYNOD_ASSERT(*saved_voted_round_ <= record.voted_round);
  write_safety_file(files_.safety, record);
  saved_voted_round_ = record.voted_round;
}

void LmdbStore::save_blocks(const std::vector<BlockPtr>& blocks) {
  if (dead_ || blocks.empty()) return;
  Txn txn(env_->env, true);
  must(txn.status(), "begin");
  auto seq_bytes = txn.read(env_->meta, val(k_seq));
  SYNOD_ASSERT(seq_bytes && seq_bytes->size() == 8);
  std::uint64_t seq = get_be(*seq_bytes, 0, 8);
  for (const BlockPtr& b : blocks) {
    Bytes value = be64(b->height().value);
    const Bytes sealed = seal_block(*b);
    value.insert(value.end(), sealed.begin(), sealed.end());
    txn.put(env_->blocks, val(be64(seq++)), val(value));
  }
  txn.put(env_->meta, val(k_seq), val(be64(seq)));
  must(txn.commit(), "commit of blocks");
}

void LmdbStore::save_commits(const std::vector<CommittedBlock>& commits) {
  for (const CommittedBlock& c : commits) {
    if (dead_) return;
    commit_one(c);
  }
}

// One write transaction: the block's state changes, its transaction index
// entries, the commit record, the height. LMDB makes it all durable at once.
void LmdbStore::commit_one(const CommittedBlock& c) {
  const Block& b = *c.block;
  SYNOD_ASSERT(b.height() == committed_height_.next());
  SYNOD_ASSERT(c.outcome.txs.size() == b.txs.size());
  SYNOD_ASSERT(c.qc.block == b.id);
  Txn txn(env_->env, true);
  must(txn.status(), "begin");

  for (std::uint32_t i = 0; i < b.txs.size(); ++i) {
    const TxOutcome& outcome = c.outcome.txs[i];
    // The first record is a transaction's fate; a later copy changes nothing.
    if (outcome.error == TxError::AlreadyCommitted) continue;
    Bytes location = be64(b.height().value);
    put_u32(location, i);
    put_u8(location, outcome.error ? static_cast<std::uint8_t>(*outcome.error) : 0);
    txn.put(env_->txs, val(outcome.hash.view()), val(location));
  }
  apply_block(txn, env_->accounts, env_->values, b, c.outcome);
  if (crash_inside_commit_) {
    dead_ = true;  // the transaction is aborted by Txn's destructor: nothing of it survives
    return;
  }
  txn.put(env_->commits, val(be64(b.height().value)), val(seal_committed_block(c)));
  txn.put(env_->meta, val(k_height), val(be64(b.height().value)));

  // Uncommitted blocks at or below the committed height can never be needed again.
  MDB_cursor* cursor = nullptr;
  must(mdb_cursor_open(txn.get(), env_->blocks, &cursor), "cursor");
  MDB_val key, data;
  int rc = mdb_cursor_get(cursor, &key, &data, MDB_FIRST);
  for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cursor, &key, &data, MDB_NEXT)) {
    SYNOD_ASSERT(data.mv_size >= 8);
    if (Height(get_be(view(data), 0, 8)) <= b.height()) must(mdb_cursor_del(cursor, 0), "delete of a block");
  }
  mdb_cursor_close(cursor);
  if (rc != MDB_NOTFOUND) must(rc, "scan of blocks");
  prune_bodies(txn, *env_, chain_, params_, b.height(), blocks_kept_);
  must(txn.commit(), "commit of a block");
  committed_height_ = b.height();
}

std::expected<Recovery, StoreError> LmdbStore::load() const {
  SYNOD_ASSERT(!dead_);
  Recovery recovery;
  auto record = read_safety_file(files_.safety);
  if (!record) {
    if (record.error().kind != StoreErrorKind::CorruptSafetyRecord) return std::unexpected(record.error());
    recovery.safety_lost = record.error();
  } else if (!*record) {
    recovery.safety_lost = StoreError{StoreErrorKind::MissingSafetyRecord, files_.safety.string() + " does not exist"};
  } else {
    recovery.safety = std::move(**record);
  }
  auto summary = env_->summary();
  if (!summary) return std::unexpected(summary.error());
  if (auto error = env_->load_chain(*summary, recovery)) return std::unexpected(*error);
  auto blocks = env_->pending_blocks(*summary);
  if (!blocks) return std::unexpected(blocks.error());
  recovery.blocks = std::move(*blocks);
  return recovery;
}

Height LmdbStore::committed_height() const { return committed_height_; }

std::optional<Account> LmdbStore::account(const PublicKey& key) const {
  Txn txn(env_->env, false);
  must(txn.status(), "begin");
  auto v = txn.read(env_->accounts, val(key.view()));
  if (!v) return std::nullopt;
  return decode_account(*v);
}

std::optional<Bytes> LmdbStore::value(const PublicKey& owner, ByteView key) const {
  Txn txn(env_->env, false);
  must(txn.status(), "begin");
  auto v = txn.read(env_->values, val(value_key(owner, key)));
  if (!v) return std::nullopt;
  return Bytes(v->begin(), v->end());
}

std::optional<TxLocation> LmdbStore::find_tx(const TxHash& hash) const {
  Txn txn(env_->env, false);
  must(txn.status(), "begin");
  auto v = txn.read(env_->txs, val(hash.view()));
  if (!v) return std::nullopt;
  return decode_location(*v);
}

std::expected<CommittedBlock, StoreError> LmdbStore::committed_block(Height height) const {
  SYNOD_ASSERT(height > Height(0));
  SYNOD_ASSERT(height <= committed_height_);
  Txn txn(env_->env, false);
  must(txn.status(), "begin");
  const std::string at = "committed block at height " + std::to_string(height.value);
  auto pruned = txn.read(env_->meta, val(k_pruned));
  SYNOD_ASSERT(pruned && pruned->size() == 8);
  if (height <= Height(get_be(*pruned, 0, 8))) {
    return std::unexpected(StoreError{StoreErrorKind::Pruned, at + " was pruned; its header and the state are kept"});
  }
  auto v = txn.read(env_->commits, val(be64(height.value)));
  SYNOD_ASSERT(v.has_value());
  auto c = open_committed_block(chain_digest, chain_, params_, *v);
  if (!c) return std::unexpected(corrupt(files_.ledger, at + ": " + std::string(to_string(c.error()))));
  return std::move(*c);
}

namespace {

std::expected<std::uintmax_t, StoreError> copy_env(MDB_env* env, const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) {
    return std::unexpected(StoreError{StoreErrorKind::Io, file.string() + " exists already"});
  }
  // Backups hold what the ledger holds: the owner's alone, like it.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return std::unexpected(io_error("create", file, errno));
  // Held until the copy ends, so that a file nobody holds is one a killed copy left.
  ::flock(fd, LOCK_EX);
  int rc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT);
  if (rc == MDB_SUCCESS && ::fsync(fd) != 0) rc = errno;
  ::close(fd);
  if (rc != MDB_SUCCESS) {
    ::unlink(file.c_str());
    return std::unexpected(lmdb_error("mdb_env_copyfd2 to", file, rc));
  }
  fsync_path(file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path());
  const std::uintmax_t size = std::filesystem::file_size(file, ec);
  if (ec) return std::unexpected(io_error("stat", file, ec.value()));
  return size;
}

}  // namespace

std::expected<std::uintmax_t, StoreError> LmdbStore::copy_ledger(const std::filesystem::path& file) const {
  return copy_env(env_->env, file);
}

std::expected<std::uintmax_t, StoreError> copy_ledger_file(const std::filesystem::path& ledger,
                                                           const std::filesystem::path& file) {
  auto env = LmdbStore::Env::open(ledger, LmdbStore::Env::Mode::Read, 0);
  if (!env) return std::unexpected(env.error());
  return copy_env((*env)->env, file);
}

std::expected<LedgerSummary, StoreError> inspect_ledger(const std::filesystem::path& file, bool check_chain,
                                                        const Genesis* replay) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::unexpected(io_error("open", file, ec ? ec.value() : ENOENT));
  auto env = LmdbStore::Env::open(file, LmdbStore::Env::Mode::ReadUnlocked, 0);
  if (!env) return std::unexpected(env.error());
  auto summary = (*env)->summary();
  if (!summary) return std::unexpected(summary.error());
  if (summary->genesis_block != genesis_block_id(summary->chain)) {
    return std::unexpected(corrupt(file, "genesis block does not match the chain id"));
  }
  if (replay && replay->chain_id() != summary->chain) {
    return std::unexpected(StoreError{StoreErrorKind::WrongChain, file.string() + ": chain " + hex(summary->chain.view())});
  }
  if (replay && replay->params != summary->params) {
    return std::unexpected(corrupt(file, "metadata chain_params differ from the chain's"));
  }
  if (!check_chain) return summary;
  if (auto error = (*env)->check_free_pages()) return std::unexpected(*error);
  Recovery chain;
  if (auto error = (*env)->load_chain(*summary, chain)) return std::unexpected(*error);
  if (auto blocks = (*env)->pending_blocks(*summary); !blocks) return std::unexpected(blocks.error());
  if (replay) {
    // From genesis, or from the state a pruned ledger kept below its bodies.
    Ledger ledger = chain.base ? Ledger(*replay, chain_digest, chain.base->state) : Ledger(*replay, chain_digest);
    for (const CommittedBlock& c : chain.committed) {
      if (ledger.execute(*c.block).state_root != c.outcome.state_root) {
        return std::unexpected(corrupt(file, "state root differs at height " + std::to_string(c.block->height().value)));
      }
    }
    using Tables = LmdbStore::Env::StateTables;
    const LmdbStore::Env& e = **env;
    if (auto wrong = e.compare_state(ledger, Tables{e.accounts, e.values, e.txs, "accounts", "values"})) {
      // A pruned ledger's replay starts from its base copy: either may be the damaged one.
      if (chain.base) wrong->detail += " (or the base copy the replay started from is damaged)";
      return std::unexpected(*wrong);
    }
    // The base copy is the genesis state while nothing is pruned. A pruned
    // ledger's base is where the replay started: an entry of it that no kept
    // block touched reached the replayed state as it is, and the comparison
    // with the tip's tables above found it unless both copies changed alike.
    if (!chain.base) {
      const Ledger genesis_state(*replay, chain_digest);
      if (auto wrong = e.compare_state(genesis_state, Tables{e.base_accounts, e.base_values, std::nullopt,
                                                             "base_accounts", "base_values"})) {
        return std::unexpected(*wrong);
      }
    }
  }
  return summary;
}

namespace {

// The child's answer to inspect_ledger_isolated, through a pipe: 1, then the
// summary's fields; or 0, the error's kind, then its detail.
Bytes encode_inspection(const std::expected<LedgerSummary, StoreError>& r) {
  Bytes out;
  if (!r) {
    put_u8(out, 0);
    put_u8(out, static_cast<std::uint8_t>(r.error().kind));
    out.insert(out.end(), r.error().detail.begin(), r.error().detail.end());
    return out;
  }
  put_u8(out, 1);
  put_u32(out, r->schema_version);
  put_bytes(out, r->chain.view());
  put_bytes(out, r->genesis_block.view());
  put_bytes(out, r->node.view());
  const Bytes params = encode_params(r->params);
  put_var(out, params);
  put_u64(out, r->committed_height.value);
  put_u64(out, r->pruned_height.value);
  return out;
}

std::optional<std::expected<LedgerSummary, StoreError>> decode_inspection(ByteView in) {
  if (in.empty()) return std::nullopt;
  if (in[0] == 0) {
    if (in.size() < 2) return std::nullopt;
    return std::unexpected(StoreError{static_cast<StoreErrorKind>(in[1]), std::string(in.begin() + 2, in.end())});
  }
  constexpr std::size_t fixed = 1 + 4 + 3 * 32 + 4;
  if (in.size() < fixed) return std::nullopt;
  LedgerSummary s;
  std::size_t at = 1;
  s.schema_version = static_cast<std::uint32_t>(get_be(in, at, 4));
  at += 4;
  for (auto* field : {&s.chain.bytes, &s.genesis_block.bytes, &s.node.bytes}) {
    std::copy(in.begin() + static_cast<std::ptrdiff_t>(at), in.begin() + static_cast<std::ptrdiff_t>(at + 32), field->begin());
    at += 32;
  }
  const std::size_t params_bytes = get_be(in, at, 4);
  at += 4;
  if (in.size() != at + params_bytes + 16) return std::nullopt;
  s.params = decode_params(in.subspan(at, params_bytes));
  at += params_bytes;
  s.committed_height = Height(get_be(in, at, 8));
  s.pruned_height = Height(get_be(in, at + 8, 8));
  return s;
}

}  // namespace

std::expected<LedgerSummary, StoreError> inspect_ledger_isolated(const std::filesystem::path& file, bool check_chain,
                                                                 const Genesis* replay, std::uint64_t timeout_ms) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::unexpected(io_error("pipe for checking", file, errno));
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return std::unexpected(io_error("fork for checking", file, err));
  }
  if (child == 0) {
    ::close(fds[0]);
    // A parent killed mid-check (a restore stopped with SIGKILL) takes its child along.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(2);
    const Bytes answer = encode_inspection(inspect_ledger(file, check_chain, replay));
    std::size_t done = 0;
    while (done < answer.size()) {
      const ssize_t n = ::write(fds[1], answer.data() + done, answer.size() - done);
      if (n <= 0) ::_exit(2);
      done += static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  Bytes answer;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    std::uint8_t buffer[4096];
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.insert(answer.end(), buffer, buffer + n);
  }
  ::close(fds[0]);
  if (timed_out) ::kill(child, SIGKILL);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  // A check that could not finish says nothing of the file: an Io error, not damage.
  if (timed_out) {
    return std::unexpected(StoreError{StoreErrorKind::Io, file.string() + ": checking it did not finish in " +
                                                              std::to_string(timeout_ms) + " ms"});
  }
  const int signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  if (signal != 0 && signal != SIGSEGV && signal != SIGBUS && signal != SIGFPE && signal != SIGILL && signal != SIGABRT) {
    return std::unexpected(StoreError{StoreErrorKind::Io, file.string() + ": the process checking it was stopped (" +
                                                              ::strsignal(signal) + "; out of memory?)"});
  }
  if (signal != 0) {
    return std::unexpected(corrupt(file, std::string("LMDB faulted reading it (") + ::strsignal(signal) +
                                             "): its page tree is damaged"));
  }
  auto decoded = decode_inspection(answer);
  if (!decoded || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return std::unexpected(corrupt(file, "checking it ended without an answer (exit status " +
                                             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")"));
  }
  return *decoded;
}

std::expected<void, StoreError> rewrite_schema_version(const std::filesystem::path& file, std::uint32_t version) {
  auto env = LmdbStore::Env::open(file, LmdbStore::Env::Mode::Write, LmdbOptions{}.map_bytes_max);
  if (!env) return std::unexpected(env.error());
  Txn txn((*env)->env, true);
  must(txn.status(), "begin");
  Bytes schema;
  put_u32(schema, version);
  txn.put((*env)->meta, val(k_schema), val(schema));
  must(txn.commit(), "commit");
  return {};
}

}  // namespace synod::node
