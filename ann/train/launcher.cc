#include "ann/train/launcher.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ann/train/distributed.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

namespace ann {
namespace {

std::vector<pid_t> g_children;

void ForwardSignal(int signal) {
  for (pid_t child : g_children) {
    kill(child, signal);
    kill(child, SIGCONT);  // a stopped (hung) rank must see it too
  }
}

}  // namespace

absl::Status ApplyLauncherEnvironment() {
  struct Var {
    const char* env;
    const char* flag;
  };
  for (const Var& v : {Var{"WORLD_SIZE", "world_size"}, Var{"RANK", "rank"},
                       Var{"MASTER_ADDR", "dist_addr"}, Var{"MASTER_PORT", "dist_port"}}) {
    const char* value = std::getenv(v.env);
    gflags::CommandLineFlagInfo info;
    if (value == nullptr || !gflags::GetCommandLineFlagInfo(v.flag, &info) || !info.is_default) {
      continue;
    }
    if (gflags::SetCommandLineOption(v.flag, value).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", v.flag, ": bad value '", value, "' in $", v.env));
    }
  }
  return absl::OkStatus();
}

int LaunchLocalRanks(const std::vector<std::string>& command, int nproc, int port) {
  if (port <= 0) port = FreeLoopbackPort();
  g_children.clear();  // a second launch from the same process starts afresh
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
  // After the first failure the others get SIGTERM (they save and stop, or fail their next
  // collective), and SIGKILL if they are still there kKillAfter later.
  constexpr auto kKillAfter = std::chrono::seconds(30);
  int worst = 0;
  size_t done = 0;
  std::optional<std::chrono::steady_clock::time_point> kill_at;
  while (done < g_children.size()) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      if (kill_at && std::chrono::steady_clock::now() >= *kill_at) {
        LOG(WARNING) << "ranks still running " << kKillAfter.count() << " s later: killing them";
        ForwardSignal(SIGKILL);
        kill_at.reset();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    ++done;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    if (code != 0 && worst == 0) {
      const auto rank = std::find(g_children.begin(), g_children.end(), pid) - g_children.begin();
      const std::string how = WIFSIGNALED(status)
                                  ? absl::StrCat("killed by signal ", WTERMSIG(status))
                                  : absl::StrCat("exit status ", code);
      LOG(WARNING) << "rank " << rank << " (pid " << pid << ") failed first (" << how
                   << "); stopping the others";
      ForwardSignal(SIGTERM);
      kill_at = std::chrono::steady_clock::now() + kKillAfter;
    }
    worst = std::max(worst, code);
  }
  return worst;
}

}  // namespace ann
