// Local network interfaces and addresses, for choosing where a process-group rank listens: the
// address this host would use to reach another (the kernel's route, no packet sent), the
// interface that holds an address, and an interface's own address. IPv4 and IPv6.
//
//   ASSIGN_OR_RETURN(std::string local, LocalAddressTowards("10.0.0.1"));  // "10.0.0.2"
//   ASSIGN_OR_RETURN(std::string iface, InterfaceWithAddress(local));      // "eth0"
#ifndef ANN_UTIL_NETWORK_H_
#define ANN_UTIL_NETWORK_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ann {

// The local address the kernel would send from to reach `host` (a name or a numeric address).
// Fails when `host` does not resolve or no route leads to it.
absl::StatusOr<std::string> LocalAddressTowards(const std::string& host);

// The name of the interface that holds `address` (numeric), e.g. "lo" for 127.0.0.1.
absl::StatusOr<std::string> InterfaceWithAddress(const std::string& address);

// The first IPv4 address of interface `name` (an IPv6 one if it has no IPv4). Fails naming the
// interface when it does not exist or has no address.
absl::StatusOr<std::string> AddressOfInterface(const std::string& name);

// Waits until a TCP connection to host:port succeeds (then closes it), trying again after
// refusals and unreachable routes, for at most `timeout_s` seconds in all: unlike a blocking
// connect(), an attempt never outlasts the deadline. The DeadlineExceededError's message is what
// the last attempt met: "Connection refused", "No route to host" or "no answer".
absl::Status WaitForListener(const std::string& host, int port, double timeout_s);

// The numeric addresses written in `text` as "[a.b.c.d]" or "[v6]" (how Gloo names peers).
std::vector<std::string> BracketedAddresses(const std::string& text);

}  // namespace ann

#endif  // ANN_UTIL_NETWORK_H_
