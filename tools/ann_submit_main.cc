// ann_submit: packages Cityscapes test-set predictions for the evaluation server, from a
// prediction directory (labelIds from `ann_test --format=cityscapes`, or trainIds) or straight
// from a checkpoint over leftImg8bit/test.
//
// Every test image must have exactly one single-channel 8-bit PNG of its size named
// <city>_<seq>_<frame>_leftImg8bit.png with valid ids; otherwise the missing, extra and wrong
// files are listed and nothing is written. The zip holds labelIds and is written atomically.
#include <cstdio>
#include <string>

#include "ann/config/config.h"
#include "ann/eval/backend.h"
#include "ann/eval/predict_images.h"
#include "ann/eval/submission.h"
#include "ann/util/flags.h"
#include "ann/util/runtime.h"
#include "gflags/gflags.h"

DEFINE_string(pred_dir, "", "Directory of prediction PNGs (searched recursively).");
DEFINE_string(pred_ids, "labelid", "What the prediction PNGs hold: labelid or trainid.");
DEFINE_string(checkpoint, "", "Predict the test split with this checkpoint first.");
DEFINE_string(out, "", "The zip to write.");

namespace ann {
namespace {

const ToolInfo kTool = {
    "ann_submit", "packages Cityscapes test-set predictions as the evaluation server's zip",
    "--data_root=DIR (--pred_dir=DIR [--pred_ids=labelid|trainid] | --config=FLAGS "
    "--checkpoint=PTH) --out=submission.zip",
    "ann_submit --data_root=data/cityscapes --pred_dir=pred --out=submission.zip"};

// Predicts leftImg8bit/test with --checkpoint into `pred_dir` (labelIds).
absl::Status PredictTestSplit(const std::vector<std::string>& images, const std::string& pred_dir) {
  ANN_ASSIGN_OR_RETURN(Config config, LoadConfig<kModelPart | kDataPart | kTestPart>());
  if (config.model.num_classes != 19) {
    return absl::InvalidArgumentError(
        absl::StrCat("--num_classes: a Cityscapes submission needs a 19-class model, got ",
                     config.model.num_classes));
  }
  SetUpRuntimeFromFlags();
  ANN_ASSIGN_OR_RETURN(Predictor predictor, LoadPredictor(config.model, config.data.normalize,
                                                          config.test, FLAGS_checkpoint));
  PredictOutput output;
  output.format = PredictOutput::Format::kCityscapes;
  output.out_dir = pred_dir;
  output.palette = CityscapesPalette();
  output.workers = config.data.workers;
  return PredictImages(predictor, images, output);
}

absl::Status Run() {
  ANN_ASSIGN_OR_RETURN(Config config, LoadConfig<kDataPart>());
  if (FLAGS_out.empty()) return absl::InvalidArgumentError("--out is required");
  if (config.data.data_root.empty()) return absl::InvalidArgumentError("--data_root is required");
  ANN_ASSIGN_OR_RETURN(PredictionIds ids,
                       ParseEnumFlag<PredictionIds>("pred_ids", FLAGS_pred_ids,
                                                    {{"labelid", PredictionIds::kLabelId},
                                                     {"trainid", PredictionIds::kTrainId}}));
  ANN_ASSIGN_OR_RETURN(
      std::vector<Sample> samples,
      ListSamples(GetDatasetInfo(DatasetKind::kCityscapes), config.data.data_root, "test"));
  std::vector<std::string> images;
  for (const Sample& s : samples) images.push_back(s.image);
  std::string pred_dir = FLAGS_pred_dir;
  if (!FLAGS_checkpoint.empty()) {
    if (pred_dir.empty()) pred_dir = FLAGS_out + ".pred";
    ANN_RETURN_IF_ERROR(PredictTestSplit(images, pred_dir));
    ids = PredictionIds::kLabelId;
  }
  if (pred_dir.empty()) {
    return absl::InvalidArgumentError("--pred_dir: give --pred_dir or --checkpoint");
  }
  ANN_ASSIGN_OR_RETURN(auto written, MakeSubmission(images, pred_dir, ids, FLAGS_out));
  std::printf("%s: %zu files, %lld bytes\n", FLAGS_out.c_str(), written.first,
              static_cast<long long>(written.second));
  return absl::OkStatus();
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) { return ann::RunConfigTool(argc, argv, ann::kTool, ann::Run); }
