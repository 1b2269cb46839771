#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "core/assert.h"

namespace synod::net {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

[[noreturn]] void fail(const std::string& what) {
  const unsigned long code = ERR_get_error();
  char reason[256] = "unknown";
  if (code != 0) ERR_error_string_n(code, reason, sizeof reason);
  throw std::runtime_error("TLS set-up: " + what + ": " + reason);
}

// Any certificate passes the chain check: it is self-signed, and what proves
// the key is TLS's CertificateVerify. Which keys count is the roster's
// business, decided after the handshake (docs/transport.md).
int accept_self_signed(int /*preverify*/, X509_STORE_CTX* /*ctx*/) { return 1; }

}  // namespace

boost::asio::ssl::context make_tls_context(const KeyPair& key) {
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, key.seed.data(), key.seed.size()));
  if (!pkey) fail("Ed25519 key");
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) fail("certificate");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 20L * 365 * 24 * 3600);
  if (X509_set_pubkey(cert.get(), pkey.get()) != 1) fail("certificate key");
  const std::string cn = "synod " + hex(key.public_key.view());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), pkey.get(), nullptr) <= 0) fail("self-signing");  // Ed25519 takes no digest

  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls);
  SSL_CTX* native = ctx.native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1) fail("TLS 1.3 only");
  if (SSL_CTX_use_certificate(native, cert.get()) != 1) fail("using the certificate");
  if (SSL_CTX_use_PrivateKey(native, pkey.get()) != 1) fail("using the key");
  if (SSL_CTX_check_private_key(native) != 1) fail("key and certificate disagree");
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_self_signed);
  // One connection per peer lives for hours; resumption buys nothing.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(native, 0);
  return ctx;
}

std::optional<PublicKey> peer_certificate_key(SSL* ssl) {
  SYNOD_ASSERT(ssl != nullptr);
  std::unique_ptr<X509, X509Free> cert(SSL_get1_peer_certificate(ssl));
  if (!cert) return std::nullopt;
  EVP_PKEY* pkey = X509_get0_pubkey(cert.get());
  if (pkey == nullptr || EVP_PKEY_id(pkey) != EVP_PKEY_ED25519) return std::nullopt;
  PublicKey key;
  std::size_t length = key.bytes.size();
  if (EVP_PKEY_get_raw_public_key(pkey, key.bytes.data(), &length) != 1 || length != PublicKey::size) {
    return std::nullopt;
  }
  return key;
}

}  // namespace synod::net
