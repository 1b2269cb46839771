#include "core/roster.h"

#include <utility>
#include <vector>

#include "core/assert.h"
#include "core/crypto.h"

namespace synod {

ChainId Genesis::chain_id() const {
  Bytes out;
  put_var(out, as_bytes("synod/genesis-file/v1"));
  put_var(out, as_bytes(chain_name));
  put_u32(out, static_cast<std::uint32_t>(validators.size()));
  for (const Validator& v : validators) {
    put_bytes(out, v.key.view());
    put_u64(out, v.weight.value);
    put_var(out, as_bytes(v.address));
    put_var(out, as_bytes(v.description));
  }
  put_u32(out, static_cast<std::uint32_t>(allocations.size()));
  for (const Allocation& a : allocations) {
    put_bytes(out, a.account.view());
    put_u64(out, a.balance);
  }
  put_u32(out, params.block_txs_max);
  put_u64(out, params.block_bytes_max);
  put_u32(out, params.tx_bytes_max);
  put_u32(out, params.value_bytes_max);
  put_u32(out, params.key_bytes_max);
  return sha256(out);
}

Roster::Roster(std::vector<Validator> validators) : validators_(std::move(validators)) {
  SYNOD_ASSERT(!validators_.empty());
  std::uint64_t total = 0;
  for (const Validator& v : validators_) {
    SYNOD_ASSERT(v.weight.value > 0);
    SYNOD_ASSERT(v.weight.value <= total_weight_max - total);
    total += v.weight.value;
  }
  total_ = Weight(total);
}

const Validator& Roster::at(NodeId id) const {
  SYNOD_ASSERT(contains(id));
  return validators_[id.value];
}

std::optional<NodeId> Roster::find(const PublicKey& key) const {
  for (std::size_t i = 0; i < validators_.size(); ++i) {
    if (validators_[i].key == key) return NodeId(static_cast<std::uint32_t>(i));
  }
  return std::nullopt;
}

NodeId Roster::leader(Digest digest, const ChainId& chain, Round round) const {
  const std::uint64_t n = validators_.size();
  return epoch_leaders(digest, chain, round.value / n)[round.value % n];
}

std::vector<NodeId> Roster::epoch_leaders(Digest digest, const ChainId& chain, std::uint64_t epoch) const {
  const std::uint64_t n = validators_.size();
  Bytes seed;
  {
    Writer out(seed, 64);
    put_var(out, as_bytes("synod/leader/v2"));
    put_bytes(out, chain.view());
    put_u64(out, epoch);
  }
  const Hash32 h = digest(seed);
  // total <= 2^60, so the modulo bias is below 2^-4 of one unit; it is the
  // same on every node, which is what safety needs; fairness is approximate.
  const std::uint64_t offset = get_be(h.view(), 0, 8) % total_.value;
  // The epoch's points in a seeded order: taken in order, each validator's
  // turns would follow one another in a block.
  std::vector<std::uint64_t> order(n);
  for (std::uint64_t i = 0; i < n; ++i) order[i] = i;
  std::uint64_t mix = get_be(h.view(), 8, 8);
  for (std::uint64_t i = n - 1; i > 0; --i) std::swap(order[i], order[splitmix64(mix) % (i + 1)]);
  std::vector<NodeId> leaders;
  leaders.reserve(n);
  for (std::uint64_t turn = 0; turn < n; ++turn) {
    const auto spaced = static_cast<std::uint64_t>(static_cast<u128>(order[turn]) * total_.value / n);
    std::uint64_t point = (offset + spaced) % total_.value;  // both terms below total <= 2^60: no overflow
    std::size_t i = 0;
    while (point >= validators_[i].weight.value) {
      point -= validators_[i++].weight.value;
      SYNOD_ASSERT(i < validators_.size());  // point < total
    }
    leaders.push_back(NodeId(static_cast<std::uint32_t>(i)));
  }
  return leaders;
}

}  // namespace synod
