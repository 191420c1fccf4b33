// ann_train: trains an ANN model from a config (spec §3).
//
//   ann_train --config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags
//       --data_root=data/cityscapes --work_dir=work/r50 [--resume] [--load_from=X.pth]
//       [--backbone_init=resnet50_v1c.pth] [--seed=0] [--threads=N]
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "ann/eval/predictor.h"
#include "ann/model/model_config.h"
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

namespace ann {
namespace {

absl::Status Run() {
  ANN_ASSIGN_OR_RETURN(ModelConfig model, ModelConfigFromFlags());
  ANN_ASSIGN_OR_RETURN(TrainConfig config, TrainConfigFromFlags(model));
  if (FLAGS_resume + !FLAGS_load_from.empty() + !FLAGS_backbone_init.empty() > 1) {
    return absl::InvalidArgumentError(
        "--resume, --load_from and --backbone_init are mutually exclusive");
  }
  const int threads = SetNumThreadsFromFlags();
  TrainOptions options;
  options.work_dir = FLAGS_work_dir;
  options.resume = FLAGS_resume;
  options.load_from = FLAGS_load_from;
  options.backbone_init = FLAGS_backbone_init;
  options.config_text = ProjectFlagsAsText();
  ANN_ASSIGN_OR_RETURN(options.inference, InferenceConfigFromFlags());
  std::fprintf(stderr, "ann_train: %s, depth %d, %lld iterations, batch %d, %d threads\n",
               config.dataset.c_str(), model.depth, static_cast<long long>(config.max_iters),
               config.batch_size, threads);
  InstallStopSignalHandlers();
  return Train(model, config, options);
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) {
  ann::ParseCommandLine(&argc, &argv,
                        "ann_train --config=configs/<row>.flags --data_root=DIR --work_dir=DIR");
  return ann::ExitCode(ann::Run());
}
