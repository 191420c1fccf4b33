// ann_test: predictions for unlabelled images with a trained checkpoint.
//
// Writes one PNG per image (<name>.png): trainIds, or with --format=cityscapes labelIds for the
// test server (Cityscapes stems already end in _leftImg8bit); optionally a colour overlay
// (<name>_overlay.png) and the scores before argmax (<name>.pt, float32 [K, H, W], readable by
// Python's torch.load: logits for one pass, averaged probabilities for multi-scale / flip,
// summed logits for mscrop). A directory of images is searched recursively, output folders inside
// it left out; names are the image stems, or relative paths when stems repeat (PredictionNames).
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "ann/config/config.h"
#include "ann/eval/backend.h"
#include "ann/eval/predict_images.h"
#include "ann/eval/predict_video.h"
#include "ann/io/checkpoint.h"
#include "ann/io/image.h"
#include "ann/util/flags.h"
#include "ann/util/runtime.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(checkpoint, "", "Model checkpoint (.pth), zip or legacy torch.save format.");
DEFINE_string(images, "", "An image file, a directory of images (recursive), or a glob pattern.");
DEFINE_string(out_dir, "", "Directory for label PNGs (one per image).");
DEFINE_bool(overlay, false, "Also write <name>_overlay.png: prediction colours over the image.");
DEFINE_string(logits_dir, "", "If set, write <name>.pt scores (float32 [K, H, W]) here.");
DEFINE_string(format, "trainid", "Label PNGs: trainid, or cityscapes (labelIds for the server).");
DEFINE_string(calibrate, "", "Instead of predicting: write --images' int8 calibration here.");

namespace ann {
namespace {

const ToolInfo kTool = {
    "ann_test", "predicts label maps (and optionally overlays and scores) for images",
    "--config=FLAGS --checkpoint=PTH (--images=PATH | --video=FILE | --camera=N) "
    "(--out_dir=DIR [--overlay] | --logits_dir=DIR | --calibrate=FILE) "
    "[--format=trainid|cityscapes] [--precision=int8 --calibration=FILE]",
    "ann_test --config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags --checkpoint=r50.pth "
    "--images=data/cityscapes/leftImg8bit/val --out_dir=pred --overlay"};

absl::Status Run() {
  ANN_ASSIGN_OR_RETURN(Config config, LoadConfig<kModelPart | kDataPart | kTestPart>());
  if (FLAGS_checkpoint.empty()) return absl::InvalidArgumentError("--checkpoint is required");
  ANN_ASSIGN_OR_RETURN(const VideoRequest video,
                       VideoRequestFromFlags(!FLAGS_images.empty(), {"logits_dir", "calibrate"}));
  const bool is_video = video.given();
  if (FLAGS_out_dir.empty() && FLAGS_calibrate.empty() && (is_video || FLAGS_logits_dir.empty())) {
    return absl::InvalidArgumentError("--out_dir: give --out_dir and/or --logits_dir");
  }
  PredictOutput output;
  ANN_ASSIGN_OR_RETURN(output.format, ParsePredictFormat(FLAGS_format));
  if (output.format == PredictOutput::Format::kCityscapes && config.model.num_classes != 19) {
    return absl::InvalidArgumentError("--format=cityscapes needs a 19-class model");
  }
  // Outputs written inside the input tree (by an earlier run) are not inputs.
  std::vector<std::string> images;
  if (!is_video) {
    ANN_ASSIGN_OR_RETURN(images, ListImages(FLAGS_images, {FLAGS_out_dir, FLAGS_logits_dir}));
  }
  const int threads = SetUpRuntimeFromFlags();
  LoadReport report;
  // Calibration runs the float graph: a calibration given for int8 plays no part.
  TestConfig test = config.test;
  if (!FLAGS_calibrate.empty()) test.precision.reset();
  ANN_ASSIGN_OR_RETURN(EncoderDecoder model,
                       LoadEvalModel(config.model, test, FLAGS_checkpoint, &report));
  LOG(INFO) << FLAGS_checkpoint << ": " << report.Summary() << "; "
            << (is_video ? (video.source.file.empty() ? "a camera" : video.source.file)
                         : absl::StrCat(images.size(), " images"))
            << ", " << threads << " threads";
  if (!FLAGS_calibrate.empty()) {
    return CalibrateImages(model, config.data.normalize, test, images, FLAGS_checkpoint,
                           FLAGS_calibrate);
  }
  Predictor predictor(config.model, config.data.normalize, test, MakeForward(model, test));
  output.out_dir = FLAGS_out_dir;
  output.overlay = FLAGS_overlay;
  output.logits_dir = FLAGS_logits_dir;
  output.palette = ModelPalette(config.data.info, config.model.num_classes);
  output.workers = config.data.workers;
  if (std::filesystem::is_directory(FLAGS_images)) output.root = FLAGS_images;
  if (!is_video) return PredictImages(predictor, images, output);
  return PredictVideo(predictor, video.source, output, video.frame_labels).status();
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) { return ann::RunConfigTool(argc, argv, ann::kTool, ann::Run); }
