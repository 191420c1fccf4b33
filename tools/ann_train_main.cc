// ann_train: trains an ANN model from a config (spec §3).
//
//   ann_train --config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags
//       --data_root=data/cityscapes --work_dir=work/r50 [--resume] [--load_from=X.pth]
//       [--backbone_init=resnet50_v1c.pth] [--seed=0] [--threads=N]
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ann/eval/predictor.h"
#include "ann/model/model_config.h"
#include "ann/train/distributed.h"
#include "ann/train/train_config.h"
#include "ann/train/trainer.h"
#include "ann/util/flags.h"
#include "ann/util/status_macros.h"
#include "ann/util/threads.h"
#include "gflags/gflags.h"

DEFINE_string(work_dir, "", "Directory for checkpoints, logs and curves.");
DEFINE_bool(resume, false, "Continue from the newest checkpoint in --work_dir.");
DEFINE_string(load_from, "", "Initialise all weights from this checkpoint; start at iteration 0.");
DEFINE_string(backbone_init, "", "ImageNet backbone checkpoint (non-strict); start at 0.");
DEFINE_int32(nproc, 1, "Processes to launch on this machine (data parallel over loopback Gloo).");
DEFINE_int32(rank, -1, "This process's rank (set by the --nproc launcher, or by hand).");
DEFINE_int32(world_size, 1, "Number of processes in the group.");
DEFINE_string(dist_addr, "127.0.0.1", "Address of rank 0's rendezvous store.");
DEFINE_int32(dist_port, 0, "Port of the rendezvous store (0: a free one, with --nproc).");

namespace ann {
namespace {

std::vector<pid_t> g_children;

void ForwardSignal(int signal) {
  for (pid_t child : g_children) kill(child, signal);
}

// --nproc=N: runs N copies of this command as ranks 0..N-1 over loopback and waits for them;
// a failing rank stops the others. Returns the worst exit status.
int LaunchLocalRanks(const std::vector<std::string>& command) {
  const int port = FLAGS_dist_port > 0 ? FLAGS_dist_port : FreeLoopbackPort();
  signal(SIGINT, ForwardSignal);
  signal(SIGTERM, ForwardSignal);
  for (int r = 0; r < FLAGS_nproc; ++r) {
    std::vector<std::string> args = command;
    args.push_back(absl::StrCat("--rank=", r));
    args.push_back(absl::StrCat("--world_size=", FLAGS_nproc));
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
      std::fprintf(stderr, "ann_train: a rank (pid %d) failed; stopping the others\n", pid);
      ForwardSignal(SIGTERM);
    }
    worst = std::max(worst, code);
  }
  return worst;
}

absl::Status Run() {
  ANN_ASSIGN_OR_RETURN(ModelConfig model, ModelConfigFromFlags());
  ANN_ASSIGN_OR_RETURN(TrainConfig config, TrainConfigFromFlags(model));
  if (FLAGS_resume + !FLAGS_load_from.empty() + !FLAGS_backbone_init.empty() > 1) {
    return absl::InvalidArgumentError(
        "--resume, --load_from and --backbone_init are mutually exclusive");
  }
  TrainOptions options;
  options.work_dir = FLAGS_work_dir;
  options.resume = FLAGS_resume;
  options.load_from = FLAGS_load_from;
  options.backbone_init = FLAGS_backbone_init;
  options.config_text = ProjectFlagsAsText();
  ANN_ASSIGN_OR_RETURN(options.inference, InferenceConfigFromFlags());
  std::unique_ptr<Distributed> distributed;
  if (FLAGS_world_size > 1) {
    if (FLAGS_dist_port <= 0) return absl::InvalidArgumentError("--dist_port is required");
    ANN_ASSIGN_OR_RETURN(distributed, Distributed::Connect(FLAGS_rank, FLAGS_world_size,
                                                           FLAGS_dist_addr, FLAGS_dist_port));
    options.distributed = distributed.get();
  }
  const int threads = SetNumThreadsFromFlags();
  if (FLAGS_rank <= 0) {
    std::fprintf(stderr, "ann_train: %s, depth %d, %lld iterations, batch %d x %d processes, "
                 "%d threads each\n",
                 config.dataset.c_str(), model.depth, static_cast<long long>(config.max_iters),
                 config.batch_size, FLAGS_world_size, threads);
  }
  InstallStopSignalHandlers();
  return Train(model, config, options);
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) {
  const std::vector<std::string> command(argv, argv + argc);  // For the --nproc launcher.
  ann::ParseCommandLine(&argc, &argv,
                        "ann_train --config=configs/<row>.flags --data_root=DIR --work_dir=DIR");
  if (FLAGS_nproc > 1 && FLAGS_rank < 0) {
    // Validate the flags once, before starting anything.
    auto model = ann::ModelConfigFromFlags();
    absl::Status valid = model.ok() ? ann::TrainConfigFromFlags(*model).status() : model.status();
    if (!valid.ok()) return ann::ExitCode(valid);
    return ann::LaunchLocalRanks(command);
  }
  return ann::ExitCode(ann::Run());
}
