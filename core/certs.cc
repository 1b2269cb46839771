#include "core/certs.h"

#include "core/sign_bytes.h"

namespace synod {

std::string_view to_string(CertError e) {
  switch (e) {
    case CertError::NotCanonical: return "not_canonical";
    case CertError::UnknownSigner: return "unknown_signer";
    case CertError::BelowQuorum: return "below_quorum";
    case CertError::BadSignature: return "bad_signature";
    case CertError::BadGenesis: return "bad_genesis";
    case CertError::RoundTooLow: return "round_too_low";
  }
  return "unknown";
}

BlockPtr genesis_block(const ChainId& chain) {
  Block b;
  b.id = genesis_block_id(chain);
  return std::make_shared<const Block>(std::move(b));
}

QuorumCert genesis_qc(const ChainId& chain) {
  return QuorumCert{genesis_block_id(chain), Round(0), Height(0), {}};
}

namespace {

// Signers strictly ascending, all in the roster, together a quorum.
template <class Sigs>
std::expected<void, CertError> check_signers(const Roster& roster, const Sigs& sigs) {
  std::uint64_t weight = 0;
  for (std::size_t i = 0; i < sigs.size(); ++i) {
    if (i > 0 && !(sigs[i - 1].signer < sigs[i].signer)) return std::unexpected(CertError::NotCanonical);
    if (!roster.contains(sigs[i].signer)) return std::unexpected(CertError::UnknownSigner);
    weight += roster.weight(sigs[i].signer).value;
  }
  if (!roster.is_quorum(Weight(weight))) return std::unexpected(CertError::BelowQuorum);
  return {};
}

}  // namespace

std::expected<void, CertError> verify_qc(const CertContext& ctx, const QuorumCert& qc) {
  if (qc.round == Round(0)) {
    if (qc != genesis_qc(ctx.chain)) return std::unexpected(CertError::BadGenesis);
    return {};
  }
  if (auto ok = check_signers(ctx.roster, qc.votes); !ok) return ok;
  const VoteSignBytes message = vote_sign_bytes(ctx.chain, qc.block, qc.round, qc.height);
  for (const SignerSig& v : qc.votes) {
    if (!ctx.scheme.verify(ctx.roster.at(v.signer).key, message, v.sig)) {
      return std::unexpected(CertError::BadSignature);
    }
  }
  return {};
}

std::expected<void, CertError> verify_tc(const CertContext& ctx, const TimeoutCert& tc) {
  if (tc.round == Round(0)) return std::unexpected(CertError::RoundTooLow);
  if (auto ok = check_signers(ctx.roster, tc.timeouts); !ok) return ok;
  for (const TimeoutSig& t : tc.timeouts) {
    if (!(t.high_qc_round < tc.round)) return std::unexpected(CertError::BadSignature);
    const TimeoutSignBytes message = timeout_sign_bytes(ctx.chain, tc.round, t.high_qc_round);
    if (!ctx.scheme.verify(ctx.roster.at(t.signer).key, message, t.sig)) {
      return std::unexpected(CertError::BadSignature);
    }
  }
  return {};
}

}  // namespace synod
