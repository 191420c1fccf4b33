#include "ann/train/launcher.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ann/train/distributed.h"
#include "ann/util/flags.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

namespace ann {
namespace {

// Set in the environment of the ranks LaunchLocalRanks starts.
constexpr char kLaunchedVariable[] = "ANN_LAUNCHED_RANK";

std::vector<pid_t> g_children;
volatile sig_atomic_t g_forwarded = 0;  // a stop signal was passed on to the ranks

void OnStopSignal(int signal) {
  g_forwarded = 1;
  for (pid_t child : g_children) kill(child, signal);
}

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

int RankExitCode(const absl::Status& status, int rank) {
  if (absl::IsCancelled(status) && rank > 0 && std::getenv(kLaunchedVariable) != nullptr) return 1;
  return ExitCode(status);
}

int LaunchLocalRanks(const std::vector<std::string>& command, int nproc, int port) {
  if (port <= 0) port = FreeLoopbackPort();
  g_children.clear();  // a second launch from the same process starts afresh
  g_forwarded = 0;
  signal(SIGINT, OnStopSignal);
  signal(SIGTERM, OnStopSignal);
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
  environment.push_back(absl::StrCat(kLaunchedVariable, "=1"));
  std::vector<char*> env;
  for (std::string& e : environment) env.push_back(e.data());
  env.push_back(nullptr);
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
    if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, raw.data(), env.data()) != 0) {
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
  // When the ranks still running get SIGKILL (never, until one has failed).
  auto kill_at = std::chrono::steady_clock::time_point::max();
  while (done < g_children.size()) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      if (std::chrono::steady_clock::now() >= kill_at) {
        LOG(WARNING) << "ranks still running " << kKillAfter.count() << " s later: killing them";
        ForwardSignal(SIGKILL);
        kill_at = std::chrono::steady_clock::time_point::max();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    ++done;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    // After a stop signal the ranks save and exit non-zero on purpose: rank 0 says so.
    if (code != 0 && worst == 0 && !g_forwarded) {
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
