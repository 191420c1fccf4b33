#include "ann/util/network.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "gtest/gtest.h"

namespace ann {
namespace {

TEST(NetworkTest, LoopbackRoutesThroughLo) {
  absl::StatusOr<std::string> local = LocalAddressTowards("127.0.0.1");
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(*local, "127.0.0.1");
  absl::StatusOr<std::string> iface = InterfaceWithAddress(*local);
  ASSERT_TRUE(iface.ok()) << iface.status();
  EXPECT_EQ(*iface, "lo");
  absl::StatusOr<std::string> address = AddressOfInterface("lo");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(*address, "127.0.0.1");
}

TEST(NetworkTest, ErrorsNameWhatIsMissing) {
  absl::StatusOr<std::string> address = AddressOfInterface("nosuch0");
  ASSERT_FALSE(address.ok());
  EXPECT_NE(address.status().message().find("no network interface named 'nosuch0'"),
            std::string::npos)
      << address.status();
  EXPECT_NE(address.status().message().find("lo"), std::string::npos) << address.status();
  EXPECT_FALSE(InterfaceWithAddress("192.0.2.77").ok());  // TEST-NET-1: never local
  EXPECT_FALSE(LocalAddressTowards("no-such-host.invalid").ok());
}

TEST(NetworkTest, WaitForListenerMeetsItsDeadline) {
  // A listening socket is found at once.
  const int server = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(addr);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(server, 4), 0);
  ASSERT_EQ(getsockname(server, reinterpret_cast<sockaddr*>(&addr), &length), 0);
  const int port = ntohs(addr.sin_port);
  EXPECT_TRUE(WaitForListener("127.0.0.1", port, 5).ok());
  close(server);
  // Once closed, connections are refused until the deadline, which is kept.
  const auto start = std::chrono::steady_clock::now();
  absl::Status refused = WaitForListener("127.0.0.1", port, 1.0);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(absl::IsDeadlineExceeded(refused)) << refused;
  EXPECT_NE(refused.message().find("Connection refused"), std::string::npos) << refused;
  EXPECT_GE(took, 0.7);
  EXPECT_LE(took, 1.3);
}

TEST(NetworkTest, BracketedAddressesAreThoseGlooPrints) {
  EXPECT_EQ(BracketedAddresses("[gloo/transport/tcp/pair.cc:598] Connection closed by peer "
                               "[10.233.0.2]:41234; [::1]:5 [not.an.address]"),
            (std::vector<std::string>{"10.233.0.2", "::1"}));
  EXPECT_TRUE(BracketedAddresses("Timed out waiting 10000ms for recv").empty());
}

}  // namespace
}  // namespace ann
