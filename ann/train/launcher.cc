#include "ann/train/launcher.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ann/train/distributed.h"
#include "glog/logging.h"

namespace ann {
namespace {

std::vector<pid_t> g_children;

void ForwardSignal(int signal) {
  for (pid_t child : g_children) kill(child, signal);
}

}  // namespace

int LaunchLocalRanks(const std::vector<std::string>& command, int nproc, int port) {
  if (port <= 0) port = FreeLoopbackPort();
  signal(SIGINT, ForwardSignal);
  signal(SIGTERM, ForwardSignal);
  for (int r = 0; r < nproc; ++r) {
    std::vector<std::string> args = command;
    args.push_back(absl::StrCat("--rank=", r));
    args.push_back(absl::StrCat("--world_size=", nproc));
    args.push_back(absl::StrCat("--dist_port=", port));
    args.push_back("--nproc=1");
    std::vector<char*> raw;
    for (std::string& a : args) raw.push_back(a.data());
    raw.push_back(nullptr);
    pid_t pid;
    if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, raw.data(), environ) != 0) {
      std::fprintf(stderr, "error: cannot start rank %d\n", r);
      ForwardSignal(SIGTERM);
      return 1;
    }
    g_children.push_back(pid);
  }
  int worst = 0;
  for (size_t done = 0; done < g_children.size(); ++done) {
    int status = 0;
    const pid_t pid = wait(&status);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    if (code != 0 && worst == 0) {
      const auto rank = std::find(g_children.begin(), g_children.end(), pid) - g_children.begin();
      LOG(WARNING) << "rank " << rank << " (pid " << pid << ") failed; stopping the others";
      ForwardSignal(SIGTERM);
    }
    worst = std::max(worst, code);
  }
  return worst;
}

}  // namespace ann
