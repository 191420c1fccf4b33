// ann_train: trains an ANN model from a config (the README's ann_train section), in one process or
// as --nproc ranks over loopback (or ranks started by hand with --rank --world_size --dist_addr
// --dist_port).
#include <string>
#include <vector>

#include "ann/config/config.h"
#include "ann/train/distributed.h"
#include "ann/train/launcher.h"
#include "ann/train/trainer.h"
#include "ann/util/flags.h"
#include "ann/util/runtime.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(work_dir, "", "Directory for checkpoints, logs and curves.");
DEFINE_bool(resume, false, "Continue from the newest checkpoint in --work_dir.");
DEFINE_string(resume_from, "", "Continue from this training checkpoint (e.g. a best_*.pth).");
DEFINE_string(load_from, "",
              "Initialise all weights from this checkpoint and start at iteration 0; classifiers "
              "of another class count are initialised anew (fine-tuning to new classes).");
DEFINE_string(backbone_init, "", "ImageNet backbone checkpoint (non-strict); start at 0.");
DEFINE_int32(nproc, 1, "Processes to launch on this machine (data parallel over loopback Gloo).");
DEFINE_int32(rank, -1, "This process's rank (set by the --nproc launcher, or by hand).");
DEFINE_int32(world_size, 1, "Number of processes in the group.");
DEFINE_validator(nproc, [](const char*, int32_t value) { return value >= 1; });
DEFINE_validator(world_size, [](const char*, int32_t value) { return value >= 1; });
DEFINE_string(dist_addr, "127.0.0.1", "Address of rank 0's rendezvous store.");
DEFINE_int32(dist_port, 0, "Port of the rendezvous store (0: a free one, with --nproc).");
DEFINE_string(dist_iface, "",
              "Local network interface(s) of this rank's Gloo connections, comma separated "
              "(GLOO_SOCKET_IFNAME wins; default: the interface that routes to --dist_addr).");
DEFINE_int32(dist_timeout, 300,
             "Seconds a collective waits for a peer before every rank stops with an error.");
DEFINE_validator(dist_timeout, [](const char*, int32_t value) { return value >= 1; });

namespace ann {
namespace {

absl::Status Run() {
  ANN_ASSIGN_OR_RETURN(Config config,
                       LoadConfig<kModelPart | kDataPart | kTrainPart | kTestPart>());
  if (FLAGS_resume + !FLAGS_resume_from.empty() + !FLAGS_load_from.empty() +
          !FLAGS_backbone_init.empty() >
      1) {
    return absl::InvalidArgumentError(
        "--resume: --resume, --resume_from, --load_from and --backbone_init are mutually "
        "exclusive");
  }
  TrainOptions options;
  options.work_dir = FLAGS_work_dir;
  options.resume = FLAGS_resume;
  options.resume_from = FLAGS_resume_from;
  options.load_from = FLAGS_load_from;
  options.backbone_init = FLAGS_backbone_init;
  options.config_text = ProjectFlagsAsText();
  std::unique_ptr<Distributed> distributed;
  if (FLAGS_world_size > 1) {
    if (FLAGS_dist_port <= 0) return absl::InvalidArgumentError("--dist_port is required");
    ConnectOptions connect{FLAGS_rank,      FLAGS_world_size,   FLAGS_dist_addr,
                           FLAGS_dist_port, FLAGS_dist_timeout, FLAGS_dist_iface};
    ANN_ASSIGN_OR_RETURN(distributed, Distributed::Connect(connect));
    options.distributed = distributed.get();
  }
  const int threads = SetUpRuntimeFromFlags();
  if (FLAGS_rank <= 0) {
    LOG(INFO) << "ann_train: " << config.data.info.name << ", depth " << config.model.depth << ", "
              << config.train.max_iters << " iterations, batch " << config.train.batch_size << " x "
              << FLAGS_world_size << " processes, " << threads << " threads each";
  }
  return Train(config.model, config.data, config.train, config.test, options);
}

}  // namespace
}  // namespace ann

// What --help says.
const ann::ToolInfo kTrainTool = {
    "ann_train", "trains an ANN model from a config (SGD + poly, CE / OHEM, exact resume)",
    "--config=FLAGS --data_root=DIR --work_dir=DIR [--resume | --resume_from=PTH | "
    "--load_from=PTH | --backbone_init=PTH] [--nproc=N]",
    "ann_train --config=configs/toy.flags --data_root=data/toy --work_dir=work/toy"};

int main(int argc, char** argv) {
  const std::vector<std::string> command(argv, argv + argc);  // For the --nproc launcher.
  absl::Status parsed = ann::ParseConfigCommandLine(argc, argv, kTrainTool);
  if (!parsed.ok()) return ann::CommandLineExitCode(parsed);
  if (absl::Status env = ann::ApplyLauncherEnvironment(); !env.ok()) {
    return ann::CommandLineExitCode(env);
  }
  if (FLAGS_nproc > 1 && FLAGS_rank < 0) {
    // Validate the config once, before starting anything.
    auto config =
        ann::LoadConfig<ann::kModelPart | ann::kDataPart | ann::kTrainPart | ann::kTestPart>();
    if (!config.ok()) return ann::ExitCode(config.status());
    return ann::LaunchLocalRanks(command, FLAGS_nproc, FLAGS_dist_port);
  }
  return ann::RankExitCode(ann::RunGuarded(ann::Run), FLAGS_rank);
}
