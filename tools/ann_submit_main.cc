// ann_submit: packages Cityscapes test-set predictions for the evaluation server.
//
//   # from predictions (labelIds from `ann_test --format=cityscapes`, or trainIds):
//   ann_submit --data_root=data/cityscapes --pred_dir=pred [--pred_ids=labelid|trainid]
//       --out=submission.zip
//   # or straight from a checkpoint over leftImg8bit/test:
//   ann_submit --data_root=data/cityscapes --config=configs/X.flags --checkpoint=X.pth
//       --out=submission.zip [--pred_dir=where_to_keep_the_pngs]
//
// Every test image must have exactly one single-channel 8-bit PNG of its size named
// <city>_<seq>_<frame>_leftImg8bit.png with valid ids; otherwise the missing, extra and wrong
// files are listed and nothing is written. The zip holds labelIds and is written atomically.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "ann/data/dataset.h"
#include "ann/eval/predict_images.h"
#include "ann/eval/predictor.h"
#include "ann/eval/submission.h"
#include "ann/io/checkpoint.h"
#include "ann/io/palette.h"
#include "ann/model/model_config.h"
#include "ann/model/segmentor.h"
#include "ann/train/train_config.h"
#include "ann/util/flags.h"
#include "ann/util/status_macros.h"
#include "ann/util/threads.h"
#include "gflags/gflags.h"

DEFINE_string(pred_dir, "", "Directory of prediction PNGs (searched recursively).");
DEFINE_string(pred_ids, "labelid", "What the prediction PNGs hold: labelid or trainid.");
DEFINE_string(checkpoint, "", "Predict the test split with this checkpoint first.");
DEFINE_string(out, "", "The zip to write.");
DECLARE_string(data_root);
DECLARE_int32(workers);

namespace ann {
namespace {

absl::Status Run() {
  if (FLAGS_out.empty()) return absl::InvalidArgumentError("--out is required");
  if (FLAGS_data_root.empty()) return absl::InvalidArgumentError("--data_root is required");
  PredictionIds ids;
  if (FLAGS_pred_ids == "labelid") {
    ids = PredictionIds::kLabelId;
  } else if (FLAGS_pred_ids == "trainid") {
    ids = PredictionIds::kTrainId;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--pred_ids: expected labelid or trainid, got '", FLAGS_pred_ids, "'"));
  }
  ANN_ASSIGN_OR_RETURN(std::vector<Sample> samples,
                       ListSamples(DatasetKind::kCityscapes, FLAGS_data_root, "test"));
  std::vector<std::string> images;
  for (const Sample& s : samples) images.push_back(s.image);
  std::string pred_dir = FLAGS_pred_dir;
  if (!FLAGS_checkpoint.empty()) {
    ANN_ASSIGN_OR_RETURN(ModelConfig config, ModelConfigFromFlags());
    ANN_RETURN_IF_ERROR(TrainConfigFromFlags(config).status());
    ANN_ASSIGN_OR_RETURN(InferenceConfig inference, InferenceConfigFromFlags());
    if (config.num_classes != 19) return absl::InvalidArgumentError("a 19-class model is needed");
    if (pred_dir.empty()) pred_dir = FLAGS_out + ".pred";
    SetNumThreadsFromFlags();
    EncoderDecoder model(config);
    ANN_RETURN_IF_ERROR(LoadCheckpoint(FLAGS_checkpoint, *model, LoadMode::kStrict).status());
    Predictor predictor(model, inference);
    PredictOutput output;
    output.format = PredictOutput::Format::kCityscapes;
    output.out_dir = pred_dir;
    output.palette = CityscapesPalette();
    output.workers = FLAGS_workers;
    ANN_RETURN_IF_ERROR(PredictImages(predictor, images, output));
    ids = PredictionIds::kLabelId;
  }
  if (pred_dir.empty()) return absl::InvalidArgumentError("give --pred_dir or --checkpoint");
  const SubmissionCheck check = CheckPredictions(images, pred_dir, ids);
  if (!check.ok()) {
    for (const std::string& line : DescribeProblems(check)) {
      std::fprintf(stderr, "error: %s\n", line.c_str());
    }
    return absl::FailedPreconditionError(absl::StrCat(
        pred_dir, ": submission refused: ", check.missing.size(), " missing, ",
        check.extra.size(), " extra, ", check.wrong.size(), " wrong (of ", images.size(),
        " test images); nothing written"));
  }
  ANN_ASSIGN_OR_RETURN(int64_t bytes, WriteSubmissionZip(FLAGS_out, check.entries, ids));
  std::printf("%s: %zu files, %lld bytes\n", FLAGS_out.c_str(), check.entries.size(),
              static_cast<long long>(bytes));
  return absl::OkStatus();
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) {
  ann::ParseCommandLine(&argc, &argv,
                        "ann_submit --data_root=DIR (--pred_dir=DIR | --config=F --checkpoint=P) "
                        "--out=submission.zip");
  return ann::ExitCode(ann::Run());
}
