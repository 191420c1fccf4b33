// ann_eval: metrics of a checkpoint on a labelled split (spec §4), in the config's test mode
// or as overridden: --test_mode=whole|slide, --scales=..., --flip, --aug_test.
//
//   ann_eval --config=configs/toy.flags --checkpoint=work/toy/latest.pth
//       --data_root=data/toy [--split=val] [--work_dir=DIR] [--show_dir=DIR]
//
// Prints mmseg's per-class / summary tables and, for Cityscapes, the authors' README table
// (classes and categories, IoU and instance-weighted nIoU). With --work_dir: metrics.json,
// confusion.csv and confusion.png there.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ann/data/cityscapes_labels.h"
#include "ann/data/dataset.h"
#include "ann/eval/cityscapes_metrics.h"
#include "ann/eval/evaluator.h"
#include "ann/eval/predictor.h"
#include "ann/eval/report.h"
#include "ann/io/checkpoint.h"
#include "ann/model/model_config.h"
#include "ann/model/segmentor.h"
#include "ann/train/train_config.h"
#include "ann/util/atomic_file.h"
#include "ann/util/flags.h"
#include "ann/util/status_macros.h"
#include "ann/util/threads.h"
#include "gflags/gflags.h"

DEFINE_string(checkpoint, "", "Model checkpoint (.pth).");
DEFINE_string(split, "val", "Split to evaluate (val; train or test when labelled).");
DEFINE_string(work_dir, "", "Where to write metrics.json, confusion.csv and confusion.png.");
DEFINE_string(show_dir, "", "Write prediction | ground-truth colour overlays here.");
DEFINE_string(pred_dir, "",
              "Evaluate these trainId PNGs (<image stem>.png) instead of running --checkpoint.");
DECLARE_string(dataset);
DECLARE_string(data_root);
DECLARE_int32(workers);

namespace ann {
namespace {

std::string Number(double v) { return std::isnan(v) ? "NaN" : absl::StrFormat("%.6f", v); }

absl::Status Run() {
  ANN_ASSIGN_OR_RETURN(ModelConfig config, ModelConfigFromFlags());
  ANN_RETURN_IF_ERROR(TrainConfigFromFlags(config).status());  // Rejects bad config values.
  ANN_ASSIGN_OR_RETURN(InferenceConfig inference, InferenceConfigFromFlags());
  if (FLAGS_checkpoint.empty() == FLAGS_pred_dir.empty()) {
    return absl::InvalidArgumentError("give one of --checkpoint and --pred_dir");
  }
  if (FLAGS_data_root.empty()) return absl::InvalidArgumentError("--data_root is required");
  ANN_ASSIGN_OR_RETURN(DatasetKind kind, ParseDatasetKind(FLAGS_dataset));
  const DatasetInfo& info = GetDatasetInfo(kind);
  ANN_RETURN_IF_ERROR(CheckClassCount(info, config.num_classes));
  ANN_ASSIGN_OR_RETURN(std::vector<Sample> samples, ListSamples(kind, FLAGS_data_root, FLAGS_split));
  for (const Sample& s : samples) {
    if (s.label.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(s.image, ": split '", FLAGS_split,
                                                     "' has no labels to evaluate against"));
    }
  }
  EvaluateOptions options;
  options.show_dir = FLAGS_show_dir;
  options.workers = FLAGS_workers;
  absl::StatusOr<Evaluation> evaluated;
  if (!FLAGS_pred_dir.empty()) {
    evaluated = EvaluatePredictionDir(FLAGS_pred_dir, samples, info,
                                      static_cast<int>(config.num_classes), options);
  } else {
    SetNumThreadsFromFlags();
    EncoderDecoder model(config);
    ANN_RETURN_IF_ERROR(LoadCheckpoint(FLAGS_checkpoint, *model, LoadMode::kStrict).status());
    Predictor predictor(model, inference);
    evaluated = EvaluateSamples(predictor, samples, info, static_cast<int>(config.num_classes),
                                options);
  }
  ANN_ASSIGN_OR_RETURN(Evaluation result, std::move(evaluated));
  std::printf("%s", FormatMmsegTables(info.class_names, result.matrix).c_str());
  std::string json;
  if (kind == DatasetKind::kCityscapes) {
    const CityscapesScores scores = ComputeCityscapesScores(result.matrix, result.instances);
    std::printf("\n%s", FormatCityscapesTable(scores).c_str());
    if (!result.instances.any()) {
      std::printf("(no *_gtFine_instanceIds.png found: nIoU is not available)\n");
    }
    json = absl::StrCat(", \"cityscapes\": {\"IoU_class\": ", Number(scores.class_iou_mean),
                        ", \"iIoU_class\": ", Number(scores.class_iiou_mean),
                        ", \"IoU_category\": ", Number(scores.category_iou_mean),
                        ", \"iIoU_category\": ", Number(scores.category_iiou_mean));
    const std::vector<std::string> names = CityscapesClassNames();
    for (int c = 0; c < 19; ++c) {
      absl::StrAppend(&json, ", \"iIoU.", names[c], "\": ", Number(scores.class_iiou[c]));
    }
    for (int k = 0; k < 7; ++k) {
      absl::StrAppend(&json, ", \"IoU.", CityscapesCategoryNames()[k], "\": ",
                      Number(scores.category_iou[k]), ", \"iIoU.", CityscapesCategoryNames()[k],
                      "\": ", Number(scores.category_iiou[k]));
    }
    json += "}";
  }
  if (!FLAGS_work_dir.empty()) {
    const std::vector<double> iou = result.matrix.IoU(), acc = result.matrix.Accuracy();
    std::string text = absl::StrCat("{\"split\": \"", FLAGS_split, "\", \"images\": ", samples.size(),
                                    ", \"aAcc\": ", Number(result.matrix.AllAccuracy()),
                                    ", \"mIoU\": ", Number(result.matrix.MeanIoU()),
                                    ", \"mAcc\": ", Number(result.matrix.MeanAccuracy()));
    for (size_t c = 0; c < info.class_names.size(); ++c) {
      absl::StrAppend(&text, ", \"IoU.", info.class_names[c], "\": ", Number(iou[c]), ", \"Acc.",
                      info.class_names[c], "\": ", Number(acc[c]));
    }
    absl::StrAppend(&text, json, "}\n");
    ANN_RETURN_IF_ERROR(WriteTextFile(FLAGS_work_dir + "/metrics.json", text));
    ANN_RETURN_IF_ERROR(
        WriteConfusionCsv(FLAGS_work_dir + "/confusion.csv", info.class_names, result.matrix));
    ANN_RETURN_IF_ERROR(
        WriteConfusionHeatmap(FLAGS_work_dir + "/confusion.png", info.class_names, result.matrix));
    std::printf("metrics.json, confusion.csv, confusion.png written to %s\n",
                FLAGS_work_dir.c_str());
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
