// The peer transport over real TLS sockets on 127.0.0.1 (docs/transport.md):
// validators connect and exchange consensus messages as themselves, a
// message to oneself comes back through the loop, a key outside the roster
// gets client rights only, and a wrong chain, a wrong protocol version or a
// certificate for another key is refused with its reason.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "net/client.h"
#include "net/peer_network.h"
#include "net/tls.h"

namespace synod::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

struct Received {
  NodeId from;
  MessagePtr message;
};

class TwoValidators : public ::testing::Test {
 protected:
  virtual PeerLimits limits() const { return {}; }

  void SetUp() override {
    for (int i = 0; i < 2; ++i) {
      keys_.push_back(KeyPair::from_label("net-test/" + std::to_string(i)));
      acceptors_.emplace_back(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      genesis_.validators.push_back(Validator{keys_.back().public_key, Weight(1),
                                              "127.0.0.1:" + std::to_string(acceptors_.back().local_endpoint().port()),
                                              "v" + std::to_string(i)});
    }
    genesis_.chain_name = "net-test";
    for (std::uint32_t i = 0; i < 2; ++i) {
      PeerNetwork::Handlers handlers{
          [this, i](NodeId from, MessagePtr m) { received_[i].push_back({from, std::move(m)}); },
          [this, i](ClientId client, ClientRequest r) {
            requests_[i].push_back(r);
            networks_[i]->respond(client, ClientResponse{r.id, AccountInfo{7, 3}});
          },
          [](const std::string&) {},
      };
      networks_.push_back(std::make_unique<PeerNetwork>(io_, genesis_, NodeId(i), keys_[i], limits(), handlers));
    }
    for (std::uint32_t i = 0; i < 2; ++i) networks_[i]->start(std::move(acceptors_[i]));
  }
  void TearDown() override {
    for (auto& n : networks_) n->stop();
    io_.run_for(std::chrono::milliseconds(200));
  }

  // Runs the loop until `done` or the time runs out.
  bool run_until(const std::function<bool()>& done, int ms = 5000) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!done() && std::chrono::steady_clock::now() < until) io_.run_for(std::chrono::milliseconds(10));
    return done();
  }

  std::string address(int i) const { return genesis_.validators[i].address; }

  asio::io_context io_;
  std::vector<KeyPair> keys_;
  std::vector<tcp::acceptor> acceptors_;
  Genesis genesis_;
  std::vector<std::unique_ptr<PeerNetwork>> networks_;
  std::vector<Received> received_[2];
  std::vector<ClientRequest> requests_[2];
};

TEST_F(TwoValidators, ExchangeMessagesAsThemselvesAndLoopBackToThemselves) {
  ASSERT_TRUE(run_until([&] { return networks_[0]->connected(NodeId(1)) && networks_[1]->connected(NodeId(0)); }));
  networks_[0]->send(NodeId(1), std::make_shared<const Message>(SyncRequest{Height(42)}));
  networks_[1]->send(NodeId(1), std::make_shared<const Message>(SyncRequest{Height(7)}));
  ASSERT_TRUE(run_until([&] { return received_[1].size() == 2; }));
  // The loopback is posted, so it arrives first.
  EXPECT_EQ(received_[1][0].from, NodeId(1));
  EXPECT_EQ(std::get<SyncRequest>(*received_[1][0].message).committed_height, Height(7));
  EXPECT_EQ(received_[1][1].from, NodeId(0));
  EXPECT_EQ(std::get<SyncRequest>(*received_[1][1].message).committed_height, Height(42));
  EXPECT_TRUE(received_[0].empty());
}

TEST_F(TwoValidators, AKeyOutsideTheRosterGetsClientRightsOnly) {
  const KeyPair stranger = KeyPair::from_label("net-test/stranger");
  auto tls = make_tls_context(stranger);
  Client client(io_, tls, Hello{protocol_version, genesis_.chain_id(), stranger.public_key});
  std::optional<std::string> error;
  client.connect(address(0), genesis_.validators[0].key, [&](const std::string& e) { error = e; });
  ASSERT_TRUE(run_until([&] { return error.has_value(); }));
  ASSERT_EQ(*error, "");
  std::optional<ClientResponse> response;
  ASSERT_TRUE(client.request(ClientRequest{0, QueryAccount{stranger.public_key}},
                             [&](const ClientResponse& r) { response = r; }));
  ASSERT_TRUE(run_until([&] { return response.has_value(); }));
  EXPECT_EQ(std::get<AccountInfo>(response->body).balance, 7u);
  EXPECT_EQ(requests_[0].size(), 1u);
  EXPECT_EQ(networks_[0]->stats().client_requests, 1u);
}

TEST_F(TwoValidators, AWrongChainAnotherVersionOrAnotherKeyIsRefusedWithItsReason) {
  const KeyPair stranger = KeyPair::from_label("net-test/stranger");
  auto tls = make_tls_context(stranger);
  const auto try_connect = [&](Hello hello, std::optional<PublicKey> pinned) {
    Client client(io_, tls, hello);
    std::optional<std::string> error;
    client.connect(address(0), pinned, [&](const std::string& e) { error = e; });
    run_until([&] { return error.has_value() && (!error->empty() || !client.closed_why().empty()); });
    return error->empty() ? client.closed_why() : *error;
  };
  Hash32 other_chain = genesis_.chain_id();
  other_chain.bytes[0] ^= 1;
  EXPECT_EQ(try_connect(Hello{protocol_version, other_chain, stranger.public_key}, std::nullopt),
            "refused by peer: wrong_chain");
  EXPECT_EQ(try_connect(Hello{protocol_version + 1, genesis_.chain_id(), stranger.public_key}, std::nullopt),
            "refused by peer: wrong_version");
  EXPECT_EQ(try_connect(Hello{protocol_version, genesis_.chain_id(), keys_[1].public_key}, std::nullopt),
            "refused by peer: hello_key_mismatch");
  // Dialling node 0 while expecting node 1's key: the certificate gives it away.
  const std::string pinned = try_connect(Hello{protocol_version, genesis_.chain_id(), stranger.public_key},
                                         genesis_.validators[1].key);
  EXPECT_EQ(pinned.rfind("wrong_peer_key", 0), 0u) << pinned;
  const auto& refused = networks_[0]->stats().links.refused;
  EXPECT_EQ(refused.at("wrong_chain"), 1u);
  EXPECT_EQ(refused.at("wrong_version"), 1u);
  EXPECT_EQ(refused.at("hello_key_mismatch"), 1u);
}

// The client limits, small enough to hit: one client slot (of three inbound,
// the other validator's link among them), a 200 ms idle deadline, and a send
// queue too small for any response.
class SmallClientLimits : public TwoValidators {
 protected:
  PeerLimits limits() const override {
    PeerLimits l;
    l.inbound_connections_max = 3;
    l.client_connections_max = 1;
    l.client_link.idle_ms_max = 200;
    l.client_link.send_queue_bytes_max = 8;
    return l;
  }

  // A client of node 0 past the Hello; its error, empty on success.
  std::string connect(Client& client) {
    std::optional<std::string> error;
    client.connect(address(0), genesis_.validators[0].key, [&](const std::string& e) { error = e; });
    run_until([&] { return error.has_value(); });
    return error.value_or("no answer");
  }
};

TEST_F(SmallClientLimits, ClientsHoldOnlyTheirShareOfTheInboundSlots) {
  ASSERT_TRUE(run_until([&] { return networks_[0]->connected(NodeId(1)) && networks_[1]->connected(NodeId(0)); }));
  const KeyPair a = KeyPair::from_label("net-test/a"), b = KeyPair::from_label("net-test/b");
  auto tls_a = make_tls_context(a), tls_b = make_tls_context(b);
  Client first(io_, tls_a, Hello{protocol_version, genesis_.chain_id(), a.public_key});
  Client second(io_, tls_b, Hello{protocol_version, genesis_.chain_id(), b.public_key});
  ASSERT_EQ(connect(first), "");
  (void)connect(second);  // its Hello is answered, then refused
  ASSERT_TRUE(run_until([&] { return !second.closed_why().empty(); }));
  EXPECT_EQ(second.closed_why(), "refused by peer: too_many_clients");
  EXPECT_EQ(networks_[0]->stats().links.refused.at("too_many_clients"), 1u);
  EXPECT_TRUE(networks_[1]->connected(NodeId(0)));  // the validator's link stays
}

TEST_F(SmallClientLimits, AnIdleClientIsCutAndAFullQueueDropsAndCounts) {
  const KeyPair a = KeyPair::from_label("net-test/a");
  auto tls = make_tls_context(a);
  Client client(io_, tls, Hello{protocol_version, genesis_.chain_id(), a.public_key});
  ASSERT_EQ(connect(client), "");
  // Any response is larger than the client's 8-byte queue: dropped, counted.
  bool answered = false;
  ASSERT_TRUE(client.request(ClientRequest{0, QueryAccount{a.public_key}}, [&](const ClientResponse&) { answered = true; }));
  ASSERT_TRUE(run_until([&] { return networks_[0]->stats().links.dropped_backpressure == 1; }));
  // Then silence: the idle deadline closes the link.
  ASSERT_TRUE(run_until([&] { return !client.closed_why().empty(); }, 3000));
  EXPECT_FALSE(answered);
  EXPECT_EQ(networks_[0]->stats().links.refused.at("idle_timeout"), 1u);
}

}  // namespace
}  // namespace synod::net
