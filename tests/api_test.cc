// The pieces of the client and admin ports that need no running node
// (docs/client_api.md): the transaction's JSON form, the admin password's
// lockout, Prometheus text, URLs, and the HTTP server's limits over a real
// socket on 127.0.0.1 with the HTTP client.
#include <gtest/gtest.h>
#include <sodium.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>
#include <future>
#include <thread>

#include "core/sign_bytes.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "node/admin_auth.h"
#include "node/api_json.h"
#include "node/metrics.h"

namespace synod::node {
namespace {

using nlohmann::json;

TEST(ApiJson, ATransactionRoundTripsAndBadFieldsAreNamed) {
  const KeyPair alice = KeyPair::from_label("api/alice");
  Transaction tx{alice.public_key, 7, StoreValue{Bytes{1, 2}, Bytes{3}}, {}};
  sign_tx(ed25519_scheme(), ChainId{}, alice, tx);
  const json j = tx_to_json(tx);
  EXPECT_EQ(j["store"]["key"], "0102");
  auto back = tx_from_json(j);
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(*back, tx);

  const auto error_of = [&](json changed) { return tx_from_json(changed).error(); };
  json bad = j;
  bad["nonce"] = -1;
  EXPECT_NE(error_of(bad).find("nonce"), std::string::npos);
  bad = j;
  bad["sender"] = "00";
  EXPECT_NE(error_of(bad).find("sender must be exactly 64 hex digits"), std::string::npos);
  bad = j;
  bad["transfer"] = {{"to", hex(alice.public_key.view())}, {"amount", 1}};
  EXPECT_NE(error_of(bad).find("exactly one of transfer and store"), std::string::npos);
  bad = j;
  bad["store"]["value"] = "abc";
  EXPECT_NE(error_of(bad).find("store.value"), std::string::npos);
  bad = j;
  bad["memo"] = "hi";
  EXPECT_NE(error_of(bad).find("unknown field memo"), std::string::npos);
  EXPECT_FALSE(tx_from_json(json::array()).has_value());
}

TEST(AdminAuth, AWrongPasswordLocksForATimeThatDoublesAndTheRightOneIsAllowedAfter) {
  ASSERT_GE(sodium_init(), 0);
  const auto basic = [](const std::string& password) {
    const std::string plain = "admin:" + password;
    std::string out(sodium_base64_ENCODED_LEN(plain.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1);
    return "Basic " + out;
  };
  using V = AdminAuth::Verdict;
  EXPECT_EQ(AdminAuth("").check(basic("anything"), {}), V::NoPasswordSet);
  AdminAuth auth(hash_admin_password("correct horse battery"));
  auto t = AdminAuth::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(auth.check("", t), V::Missing);
  EXPECT_EQ(auth.check("Bearer x", t), V::Missing);
  EXPECT_EQ(auth.check(basic("correct horse battery"), t), V::Allowed);
  EXPECT_EQ(auth.check(basic("wrong"), t), V::Wrong);
  EXPECT_EQ(auth.check(basic("correct horse battery"), t + std::chrono::milliseconds(900)), V::LockedOut);
  t += std::chrono::milliseconds(1100);
  EXPECT_EQ(auth.check(basic("wrong"), t), V::Wrong);  // second in a row: 2 s
  EXPECT_EQ(auth.check(basic("correct horse battery"), t + std::chrono::milliseconds(1500)), V::LockedOut);
  EXPECT_EQ(auth.check(basic("correct horse battery"), t + std::chrono::milliseconds(2100)), V::Allowed);
  EXPECT_EQ(auth.failures(), 2u);
  EXPECT_EQ(auth.lockouts(), 2u);
}

TEST(PrometheusText, FamiliesCarryHelpAndTypeAndHistogramsAreCumulative) {
  Histogram h({0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  PrometheusText m;
  m.counter("synod_things_total", "Things.", 3);
  m.family("synod_wait_seconds", "histogram", "Waits.");
  m.histogram(h, {{"kind", "a\"b"}});
  EXPECT_EQ(m.text(),
            "# HELP synod_things_total Things.\n# TYPE synod_things_total counter\nsynod_things_total 3\n"
            "# HELP synod_wait_seconds Waits.\n# TYPE synod_wait_seconds histogram\n"
            "synod_wait_seconds_bucket{kind=\"a\\\"b\",le=\"0.1\"} 1\n"
            "synod_wait_seconds_bucket{kind=\"a\\\"b\",le=\"1\"} 2\n"
            "synod_wait_seconds_bucket{kind=\"a\\\"b\",le=\"+Inf\"} 3\n"
            "synod_wait_seconds_sum{kind=\"a\\\"b\"} 5.55\n"
            "synod_wait_seconds_count{kind=\"a\\\"b\"} 3\n");
}

TEST(Url, ParsesSchemesPortsAndPrefixesAndNamesWhatIsWrong) {
  auto u = net::parse_url("https://node.example.org/synod/");
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "/synod");
  u = net::parse_url("http://[::1]:7771");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 7771);
  EXPECT_FALSE(net::parse_url("ftp://x").has_value());
  EXPECT_FALSE(net::parse_url("http://x:0").has_value());
  EXPECT_FALSE(net::parse_url("http://x:99999").has_value());
  EXPECT_FALSE(net::parse_url("http://:80").has_value());
}

// A real HttpServer on 127.0.0.1, its loop on a thread of its own, and the client.
class Server : public ::testing::Test {
 protected:
  void start(net::HttpLimits limits, net::WebSocketHandler* ws = nullptr) {
    server_.emplace(io_, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0), limits,
                    [](const net::HttpRequest& r) {
                      return net::HttpReply{200, "application/json", json{{"echo", r.body}, {"target", r.target}}.dump()};
                    },
                    ws);
    url_ = net::Url{false, "127.0.0.1", server_->port(), ""};
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    boost::asio::post(io_, [this] { server_->stop(); });
    thread_.join();
  }
  net::HttpResponse call(const std::string& body) {
    auto r = net::http_call(url_, "POST", "/x", body, std::chrono::seconds(5));
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error());
    return r.value_or(net::HttpResponse{});
  }

  boost::asio::io_context io_;
  std::unique_ptr<net::WebSocketHandler> handler_;  // outlives server_
  std::optional<net::HttpServer> server_;
  net::Url url_;
  std::thread thread_;
};

TEST_F(Server, AnswersWithinTheSizeLimitAndRefusesAboveItTyped) {
  start(net::HttpLimits{.request_bytes_max = 1024});
  EXPECT_EQ(call("hello").status, 200);
  EXPECT_EQ(json::parse(call("hello").body)["echo"], "hello");
  const net::HttpResponse big = call(std::string(2000, 'x'));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(json::parse(big.body)["error"], "REQUEST_TOO_LARGE");
}

TEST_F(Server, RefusesRequestsBeyondTheRatePerAddress) {
  start(net::HttpLimits{.requests_per_second = 1, .requests_burst = 3});
  std::vector<int> statuses;
  for (int i = 0; i < 5; ++i) statuses.push_back(call("x").status);
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 200, 429, 429}));
}

// One GET from the local address `from` (any of 127.0.0.0/8): the status.
int status_from(const std::string& from, std::uint16_t port) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.open(asio::ip::tcp::v4());
  s.bind(asio::ip::tcp::endpoint(asio::ip::make_address(from), 0));
  s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  const std::string request = "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  asio::write(s, asio::buffer(request));
  std::string answer(12, '\0');
  asio::read(s, asio::buffer(answer));
  return std::stoi(answer.substr(9, 3));
}

TEST_F(Server, ForgetsTheLeastRecentlyUsedAddressBeyondTheBucketsItKeeps) {
  start(net::HttpLimits{.requests_per_second = 1, .requests_burst = 1, .addresses_tracked_max = 2});
  const std::uint16_t port = server_->port();
  EXPECT_EQ(status_from("127.0.0.2", port), 200);
  EXPECT_EQ(status_from("127.0.0.2", port), 429);  // its one token is spent
  EXPECT_EQ(status_from("127.0.0.3", port), 200);
  EXPECT_EQ(status_from("127.0.0.4", port), 200);  // a third address: 127.0.0.2's bucket goes
  EXPECT_EQ(status_from("127.0.0.2", port), 200);  // a fresh bucket, so a token again
  EXPECT_EQ(status_from("127.0.0.4", port), 429);  // still tracked, still spent
}

// Sends more than the queue holds the moment a client connects, before any
// write can finish: the client is cut off and counted as too slow.
class Flood final : public net::WebSocketHandler {
 public:
  explicit Flood(net::HttpServer*& server) : server_(server) {}
  void on_ws_open(net::WsId ws, const std::string&) override {
    for (int i = 0; i < 64; ++i) server_->ws_send(ws, std::string(16 * 1024, 'x'));
  }
  void on_ws_text(net::WsId, const std::string&) override {}
  void on_ws_closed(net::WsId) override {}

 private:
  net::HttpServer*& server_;
};

TEST_F(Server, AWebSocketClientFurtherBehindThanTheQueueIsCutOff) {
  net::HttpServer* server = nullptr;
  handler_ = std::make_unique<Flood>(server);
  start(net::HttpLimits{.ws_queue_bytes_max = 256 * 1024}, handler_.get());
  server = &*server_;
  auto ws = net::WsClient::connect(url_, "/v1/ws", std::chrono::seconds(5));
  ASSERT_TRUE(ws.has_value()) << ws.error();
  // Whatever arrived before the cut, the stream then ends.
  std::expected<std::string, std::string> read;
  int messages = 0;
  while ((read = (*ws)->read(std::chrono::seconds(5)))) ++messages;
  EXPECT_LT(messages, 64);
  EXPECT_NE(read.error(), "timed out");
  std::promise<std::uint64_t> too_slow;
  boost::asio::post(io_, [&] { too_slow.set_value(server_->stats().refused.at("ws_too_slow")); });
  EXPECT_EQ(too_slow.get_future().get(), 1u);
}

}  // namespace
}  // namespace synod::node
