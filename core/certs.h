// Verification of quorum certificates (QC) and timeout certificates (TC)
// against the roster: canonical signer order, known signers, quorum weight,
// then every signature. Cheap structural checks come before any signature.
#pragma once

#include <expected>

#include "core/crypto.h"
#include "core/messages.h"
#include "core/roster.h"

namespace synod {

enum class CertError : std::uint8_t {
  NotCanonical = 1,  // signers not strictly ascending (duplicates included)
  UnknownSigner,
  BelowQuorum,
  BadSignature,
  BadGenesis,        // a round-0 certificate that is not the genesis QC
  RoundTooLow,       // a timeout certificate for round 0
};
std::string_view to_string(CertError e);

struct CertContext {
  const ChainId& chain;
  const Roster& roster;
  const SignatureScheme& scheme;
};

// The block every chain starts from (round 0, height 0, no transactions) and
// the certificate that certifies it without signatures.
BlockPtr genesis_block(const ChainId& chain);
QuorumCert genesis_qc(const ChainId& chain);

std::expected<void, CertError> verify_qc(const CertContext& ctx, const QuorumCert& qc);
std::expected<void, CertError> verify_tc(const CertContext& ctx, const TimeoutCert& tc);

}  // namespace synod
