// ann_eval: mIoU of a checkpoint on a labelled split (spec §4).
//
//   ann_eval --config=configs/toy.flags --checkpoint=work/toy/latest.pth
//       --data_root=data/toy --split=val [--work_dir=DIR]
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "ann/data/dataset.h"
#include "ann/eval/evaluator.h"
#include "ann/eval/predictor.h"
#include "ann/eval/report.h"
#include "ann/io/checkpoint.h"
#include "ann/model/model_config.h"
#include "ann/model/segmentor.h"
#include "ann/train/train_config.h"
#include "ann/util/flags.h"
#include "ann/util/status_macros.h"
#include "ann/util/threads.h"
#include "gflags/gflags.h"

DEFINE_string(checkpoint, "", "Model checkpoint (.pth).");
DEFINE_string(split, "val", "Split to evaluate: val (or train, test with labels).");
DEFINE_string(work_dir, "", "Where to write metrics.json (default: next to nothing, print only).");
DECLARE_string(dataset);
DECLARE_string(data_root);

namespace ann {
namespace {

absl::Status Run() {
  ANN_ASSIGN_OR_RETURN(ModelConfig config, ModelConfigFromFlags());
  ANN_RETURN_IF_ERROR(TrainConfigFromFlags(config).status());  // Rejects bad config values.
  if (FLAGS_checkpoint.empty()) return absl::InvalidArgumentError("--checkpoint is required");
  if (FLAGS_data_root.empty()) return absl::InvalidArgumentError("--data_root is required");
  ANN_ASSIGN_OR_RETURN(DatasetKind kind, ParseDatasetKind(FLAGS_dataset));
  const DatasetInfo& info = GetDatasetInfo(kind);
  if (config.num_classes != static_cast<int64_t>(info.class_names.size())) {
    return absl::InvalidArgumentError(absl::StrCat("--num_classes=", config.num_classes, " but ",
                                                   info.name, " has ", info.class_names.size(),
                                                   " classes"));
  }
  ANN_ASSIGN_OR_RETURN(std::vector<Sample> samples, ListSamples(kind, FLAGS_data_root, FLAGS_split));
  SetNumThreadsFromFlags();
  EncoderDecoder model(config);
  ANN_RETURN_IF_ERROR(LoadCheckpoint(FLAGS_checkpoint, *model, LoadMode::kStrict).status());
  Predictor predictor(model);
  ANN_ASSIGN_OR_RETURN(ConfusionMatrix matrix,
                       EvaluateSamples(predictor, samples, info,
                                       static_cast<int>(config.num_classes), "eval"));
  std::printf("%s", FormatMmsegTables(info.class_names, matrix).c_str());
  if (!FLAGS_work_dir.empty()) {
    const std::string path = FLAGS_work_dir + "/metrics.json";
    ANN_RETURN_IF_ERROR(WriteMetricsJson(path, info.class_names, matrix));
    std::printf("metrics written to %s\n", path.c_str());
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) {
  ann::ParseCommandLine(&argc, &argv,
                        "ann_eval --config=FLAGS --checkpoint=PTH --data_root=DIR [--split=val]");
  return ann::ExitCode(ann::Run());
}
