// ann_init_checkpoint: writes a freshly initialised model (training initialisation, fixed seed)
// as an mmseg-layout checkpoint. Useful to try the tools before any training, and to start
// experiments from a known state.
//
//   ann_init_checkpoint --config=configs/toy.flags --out=init.pth --seed=0
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "ann/data/dataset.h"
#include "ann/io/checkpoint.h"
#include "ann/io/pickle.h"
#include "ann/model/model_config.h"
#include "ann/model/segmentor.h"
#include "ann/util/flags.h"
#include "ann/util/status_macros.h"
#include "gflags/gflags.h"
#include "torch/torch.h"

DEFINE_string(out, "", "Output checkpoint path (.pth).");
DECLARE_uint64(seed);       // ann/train/train_config.cc: the config's seed.
DECLARE_string(dataset);    // ann/train/train_config.cc: names and colours for meta.

namespace ann {
namespace {

absl::Status Run() {
  if (FLAGS_out.empty()) return absl::InvalidArgumentError("--out is required");
  ANN_ASSIGN_OR_RETURN(ModelConfig config, ModelConfigFromFlags());
  ANN_ASSIGN_OR_RETURN(DatasetKind kind, ParseDatasetKind(FLAGS_dataset));
  const DatasetInfo& info = GetDatasetInfo(kind);
  ANN_RETURN_IF_ERROR(CheckClassCount(info, config.num_classes));
  torch::manual_seed(FLAGS_seed);
  EncoderDecoder model(config);
  model->InitWeights();
  auto meta = PickleValue::Dict();
  meta->Set("ann_version", PickleValue::String("0.1.0"));
  meta->Set("seed", PickleValue::Int(static_cast<int64_t>(FLAGS_seed)));
  meta->Set("iter", PickleValue::Int(0));
  SetClassMeta(*meta, info.class_names, info.palette);
  ANN_RETURN_IF_ERROR(SaveCheckpoint(FLAGS_out, *model, meta));
  std::printf("%s: %lld parameters, %zu keys\n", FLAGS_out.c_str(),
              static_cast<long long>(CountParameters(*model)), ModuleStateDict(*model).size());
  return absl::OkStatus();
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) {
  ann::ParseCommandLine(&argc, &argv, "ann_init_checkpoint --config=FLAGS --out=PTH");
  return ann::ExitCode(ann::Run());
}
