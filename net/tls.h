// TLS 1.3 for the peer port (docs/transport.md): a context whose certificate
// is self-signed by the node's Ed25519 key and which demands one from the
// other side, and the key a connected peer's certificate holds. No
// certificate authority: the roster says which keys count.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <optional>

#include "core/crypto.h"

namespace synod::net {

// Mutual TLS 1.3 with a certificate made now from `key`; usable for both
// dialling and accepting. Throws std::runtime_error if OpenSSL refuses.
boost::asio::ssl::context make_tls_context(const KeyPair& key);

// The Ed25519 key of the peer's certificate on a connection whose handshake
// finished; nullopt when it presented none or another kind of key.
std::optional<PublicKey> peer_certificate_key(SSL* ssl);

}  // namespace synod::net
