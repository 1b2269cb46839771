#include "node/admin_auth.h"

#include <sodium.h>

#include <algorithm>

#include "core/assert.h"
#include "node/files.h"

namespace synod::node {

std::string hash_admin_password(const std::string& password) {
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str(out.data(), password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    stop_process("crypto_pwhash_str ran out of memory");
  }
  return out.data();
}

namespace {

// The password of "Basic base64(user:password)"; nullopt if malformed.
std::optional<std::string> basic_password(const std::string& authorization) {
  constexpr std::string_view scheme = "Basic ";
  if (!authorization.starts_with(scheme)) return std::nullopt;
  const std::string encoded = authorization.substr(scheme.size());
  std::string decoded(encoded.size(), '\0');
  std::size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(), encoded.data(), encoded.size(),
                        nullptr, &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  decoded.resize(length);
  const auto colon = decoded.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return decoded.substr(colon + 1);
}

std::array<std::uint8_t, 32> digest_of(const std::string& password) {
  std::array<std::uint8_t, 32> d{};
  crypto_hash_sha256(d.data(), reinterpret_cast<const unsigned char*>(password.data()), password.size());
  return d;
}

}  // namespace

AdminAuth::Verdict AdminAuth::check(const std::string& authorization, Clock::time_point now) {
  if (hash_.empty()) return Verdict::NoPasswordSet;
  if (now < locked_until_) {
    ++lockouts_total_;
    return Verdict::LockedOut;
  }
  const auto password = basic_password(authorization);
  if (!password) return Verdict::Missing;
  bool right = false;
  const auto digest = digest_of(*password);
  if (verified_digest_) {
    right = sodium_memcmp(digest.data(), verified_digest_->data(), digest.size()) == 0;
  }
  if (!right) right = crypto_pwhash_str_verify(hash_.c_str(), password->data(), password->size()) == 0;
  if (right) {
    verified_digest_ = digest;
    failures_in_row_ = 0;
    return Verdict::Allowed;
  }
  ++failures_total_;
  failures_in_row_ = std::min<std::uint32_t>(failures_in_row_ + 1, 7);
  locked_until_ = now + std::chrono::seconds(std::min(60, 1 << (failures_in_row_ - 1)));
  SYNOD_ASSERT(locked_until_ > now);
  return Verdict::Wrong;
}

std::string_view to_string(AdminAuth::Verdict v) {
  switch (v) {
    case AdminAuth::Verdict::Allowed: return "allowed";
    case AdminAuth::Verdict::NoPasswordSet: return "no_password_set";
    case AdminAuth::Verdict::Missing: return "missing";
    case AdminAuth::Verdict::Wrong: return "wrong";
    case AdminAuth::Verdict::LockedOut: return "locked_out";
  }
  return "unknown";
}

}  // namespace synod::node
