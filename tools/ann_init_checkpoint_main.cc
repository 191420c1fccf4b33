// ann_init_checkpoint: writes a freshly initialised model (training initialisation, the
// config's --seed) as an mmseg-layout checkpoint, with mmseg's meta (CLASSES, PALETTE). Useful to
// try the tools before any training, and to start experiments from a known state.
#include <cstdio>
#include <string>

#include "ann/config/config.h"
#include "ann/io/checkpoint.h"
#include "ann/model/segmentor.h"
#include "ann/util/flags.h"
#include "ann/util/runtime.h"
#include "gflags/gflags.h"
#include "torch/torch.h"

DEFINE_string(out, "", "Output checkpoint path (.pth).");

namespace ann {
namespace {

const ToolInfo kTool = {"ann_init_checkpoint",
                        "writes a freshly initialised model as an mmseg-layout checkpoint",
                        "--config=FLAGS --out=PTH [--seed=N]",
                        "ann_init_checkpoint --config=configs/toy.flags --out=init.pth --seed=0"};

absl::Status Run() {
  ANN_ASSIGN_OR_RETURN(Config config, LoadConfig<kModelPart | kDataPart | kTrainPart>());
  if (FLAGS_out.empty()) return absl::InvalidArgumentError("--out is required");
  const DatasetInfo& info = config.data.info;
  ANN_RETURN_IF_ERROR(CheckClassCount(info, config.model.num_classes));
  SetUpRuntimeFromFlags();
  torch::manual_seed(config.train.seed);
  EncoderDecoder model(config.model);
  model->InitWeights();
  ANN_RETURN_IF_ERROR(SaveCheckpoint(
      FLAGS_out, *model,
      CheckpointMetaDict({/*iter=*/0, config.train.seed, info.class_names, info.palette})));
  std::printf("%s: %lld parameters, %zu keys\n", FLAGS_out.c_str(),
              static_cast<long long>(CountParameters(*model)), ModuleStateDict(*model).size());
  return absl::OkStatus();
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) { return ann::RunConfigTool(argc, argv, ann::kTool, ann::Run); }
