// ann_eval: metrics of a checkpoint on a labelled split (the README's ann_eval section), in the
// config's test mode or as overridden (--test_mode, --scales, --flip, --aug_test, --aug_style).
//
// Prints mmseg's per-class / summary tables and, for Cityscapes, the authors' README table
// (classes and categories, IoU and instance-weighted nIoU). With --work_dir: metrics.json,
// confusion.csv and confusion.png there.
#include <cstdio>
#include <string>

#include "ann/config/config.h"
#include "ann/eval/backend.h"
#include "ann/eval/evaluator.h"
#include "ann/eval/report.h"
#include "ann/util/files.h"
#include "ann/util/flags.h"
#include "ann/util/runtime.h"
#include "gflags/gflags.h"

DEFINE_string(checkpoint, "", "Model checkpoint (.pth), zip or legacy torch.save format.");
DEFINE_string(split, "val", "Split to evaluate (val; train or test when labelled).");
DEFINE_string(work_dir, "", "Where to write metrics.json, confusion.csv and confusion.png.");
DEFINE_string(show_dir, "", "Write prediction | ground-truth colour overlays here.");
DEFINE_string(pred_dir, "",
              "Evaluate these trainId PNGs (<image stem>.png) instead of running --checkpoint.");

namespace ann {
namespace {

const ToolInfo kTool = {
    "ann_eval", "metrics of a checkpoint (or of prediction PNGs) on a labelled split",
    "--config=FLAGS (--checkpoint=PTH | --pred_dir=DIR) --data_root=DIR [--split=val] "
    "[--work_dir=DIR] [--show_dir=DIR]",
    "ann_eval --config=configs/toy.flags --checkpoint=work/toy/latest.pth "
    "--data_root=data/toy --work_dir=work/toy/eval"};

absl::Status Run() {
  ANN_ASSIGN_OR_RETURN(Config config, LoadConfig<kModelPart | kDataPart | kTestPart>());
  if (FLAGS_checkpoint.empty() == FLAGS_pred_dir.empty()) {
    return absl::InvalidArgumentError("--checkpoint: give one of --checkpoint and --pred_dir");
  }
  if (config.data.data_root.empty()) return absl::InvalidArgumentError("--data_root is required");
  const DatasetInfo& info = config.data.info;
  const int num_classes = static_cast<int>(config.model.num_classes);
  ANN_RETURN_IF_ERROR(CheckClassCount(info, num_classes));
  ANN_ASSIGN_OR_RETURN(const std::string split, ParseSplitFlag("split", FLAGS_split));
  ANN_ASSIGN_OR_RETURN(std::vector<Sample> samples,
                       ListSamples(info, config.data.data_root, split));
  ANN_RETURN_IF_ERROR(RequireLabels(samples, split));
  std::vector<std::string> inputs;
  for (const Sample& s : samples) inputs.insert(inputs.end(), {s.image, s.label});
  ANN_RETURN_IF_ERROR(CheckOutputFolder("show_dir", FLAGS_show_dir, inputs));
  EvaluateOptions options;
  options.show_dir = FLAGS_show_dir;
  options.workers = config.data.workers;
  absl::StatusOr<Evaluation> evaluated;
  if (!FLAGS_pred_dir.empty()) {
    evaluated = EvaluatePredictionDir(FLAGS_pred_dir, samples, info, num_classes, options);
  } else {
    SetUpRuntimeFromFlags();
    ANN_ASSIGN_OR_RETURN(Predictor predictor, LoadPredictor(config.model, config.data.normalize,
                                                            config.test, FLAGS_checkpoint));
    evaluated = EvaluateSamples(predictor, samples, info, num_classes, options);
  }
  ANN_ASSIGN_OR_RETURN(Evaluation result, std::move(evaluated));
  std::optional<CityscapesScores> scores;
  if (config.data.kind == DatasetKind::kCityscapes) {
    scores = ComputeCityscapesScores(result.matrix, result.instances);
  }
  const CityscapesScores* cityscapes = scores ? &*scores : nullptr;
  std::printf("%s", FormatEvaluation(info.class_names, result.matrix, cityscapes).c_str());
  if (cityscapes && !result.instances.any()) {
    std::printf("(no *_gtFine_instanceIds.png found: nIoU is not available)\n");
  }
  if (FLAGS_work_dir.empty()) return absl::OkStatus();
  ANN_RETURN_IF_ERROR(WriteEvaluationFiles(
      FLAGS_work_dir,
      MetricsJson(split, samples.size(), info.class_names, result.matrix, cityscapes),
      info.class_names, result.matrix));
  std::printf("metrics.json, confusion.csv, confusion.png written to %s\n", FLAGS_work_dir.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) { return ann::RunConfigTool(argc, argv, ann::kTool, ann::Run); }
