#include "ann/util/network.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"

namespace ann {
namespace {

// The numeric form of a socket address (empty for other families).
std::string Numeric(const sockaddr* addr) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (addr->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, text, sizeof(text));
  } else if (addr->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, text,
              sizeof(text));
  }
  return text;
}

struct IfaddrsDeleter {
  void operator()(ifaddrs* list) const { freeifaddrs(list); }
};

absl::StatusOr<std::unique_ptr<ifaddrs, IfaddrsDeleter>> Interfaces() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot list network interfaces: ", std::strerror(errno)));
  }
  return std::unique_ptr<ifaddrs, IfaddrsDeleter>(list);
}

}  // namespace

absl::StatusOr<std::string> LocalAddressTowards(const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  // Any port will do: a UDP socket's connect() only looks the route up.
  if (const int error = getaddrinfo(host.c_str(), "9", &hints, &found); error != 0) {
    return absl::NotFoundError(absl::StrCat(host, ": cannot resolve: ", gai_strerror(error)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
  std::string why = "no address";
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, SOCK_DGRAM, 0);
    if (fd < 0) continue;
    sockaddr_storage local{};
    socklen_t length = sizeof(local);
    const bool routed = connect(fd, a->ai_addr, a->ai_addrlen) == 0 &&
                        getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0;
    if (!routed) why = std::strerror(errno);
    close(fd);
    if (routed) return Numeric(reinterpret_cast<const sockaddr*>(&local));
  }
  return absl::UnavailableError(absl::StrCat(host, ": no route from this host: ", why));
}

absl::StatusOr<std::string> InterfaceWithAddress(const std::string& address) {
  auto list = Interfaces();
  if (!list.ok()) return list.status();
  for (const ifaddrs* i = list->get(); i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr != nullptr && Numeric(i->ifa_addr) == address) return std::string(i->ifa_name);
  }
  return absl::NotFoundError(absl::StrCat(address, ": no local interface has this address"));
}

absl::StatusOr<std::string> AddressOfInterface(const std::string& name) {
  auto list = Interfaces();
  if (!list.ok()) return list.status();
  bool exists = false;
  std::string v6;
  for (const ifaddrs* i = list->get(); i != nullptr; i = i->ifa_next) {
    if (name != i->ifa_name) continue;
    exists = true;
    if (i->ifa_addr == nullptr) continue;
    if (i->ifa_addr->sa_family == AF_INET) return Numeric(i->ifa_addr);
    if (i->ifa_addr->sa_family == AF_INET6 && v6.empty()) v6 = Numeric(i->ifa_addr);
  }
  if (!v6.empty()) return v6;
  if (!exists) {
    std::string names;
    for (const ifaddrs* i = list->get(); i != nullptr; i = i->ifa_next) {
      if (names.find(absl::StrCat(" ", i->ifa_name, ",")) == std::string::npos) {
        absl::StrAppend(&names, " ", i->ifa_name, ",");
      }
    }
    if (!names.empty()) names.pop_back();
    return absl::NotFoundError(
        absl::StrCat("no network interface named '", name, "' (this host has:", names, ")"));
  }
  return absl::NotFoundError(absl::StrCat("network interface '", name, "' has no address"));
}

absl::Status WaitForListener(const std::string& host, int port, double timeout_s) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(std::max(0.0, timeout_s)));
  std::string last = "no answer";
  while (true) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int error = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
        error != 0) {
      return absl::NotFoundError(absl::StrCat(host, ": cannot resolve: ", gai_strerror(error)));
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
    for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
      const int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      int error = connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
      if (error == EINPROGRESS) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd p{fd, POLLOUT, 0};
        if (left.count() > 0 && poll(&p, 1, static_cast<int>(left.count())) == 1) {
          socklen_t length = sizeof(error);
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
        } else {
          error = ETIMEDOUT;
        }
      }
      close(fd);
      if (error == 0) return absl::OkStatus();
      last = error == ETIMEDOUT ? "no answer" : std::strerror(error);
    }
    if (Clock::now() + std::chrono::milliseconds(200) >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return absl::DeadlineExceededError(last);
}

std::vector<std::string> BracketedAddresses(const std::string& text) {
  std::vector<std::string> found;
  for (size_t open = text.find('['); open != std::string::npos; open = text.find('[', open + 1)) {
    const size_t close = text.find(']', open);
    if (close == std::string::npos) break;
    const std::string inside = text.substr(open + 1, close - open - 1);
    in6_addr scratch;
    if (inet_pton(AF_INET, inside.c_str(), &scratch) == 1 ||
        inet_pton(AF_INET6, inside.c_str(), &scratch) == 1) {
      found.push_back(inside);
    }
  }
  return found;
}

}  // namespace ann
