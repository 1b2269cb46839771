// The admin password (docs/operating.md, Admin API): stored as libsodium's
// Argon2id string in private.toml, presented with HTTP Basic
// authentication, compared in constant time. A wrong password locks the
// protected routes for a time that doubles with each failure in a row (1 s
// up to 60 s), so guessing is slow whatever the attacker's rate. After one
// success the password's SHA-256 is kept in memory, so later requests cost
// a hash, not an Argon2id run on the node's thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace synod::node {

// The Argon2id string for `password` (libsodium's interactive limits).
std::string hash_admin_password(const std::string& password);

class AdminAuth {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Verdict : std::uint8_t { Allowed, NoPasswordSet, Missing, Wrong, LockedOut };

  explicit AdminAuth(std::string password_hash) : hash_(std::move(password_hash)) {}

  // `authorization`: the request's Authorization header, "Basic base64(user:password)".
  Verdict check(const std::string& authorization, Clock::time_point now);
  std::uint64_t failures() const { return failures_total_; }
  std::uint64_t lockouts() const { return lockouts_total_; }

 private:
  std::string hash_;
  std::optional<std::array<std::uint8_t, 32>> verified_digest_;
  std::uint32_t failures_in_row_ = 0;
  Clock::time_point locked_until_{};
  std::uint64_t failures_total_ = 0;
  std::uint64_t lockouts_total_ = 0;
};

std::string_view to_string(AdminAuth::Verdict v);

}  // namespace synod::node
