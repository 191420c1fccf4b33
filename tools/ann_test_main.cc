// ann_test: predictions for unlabelled images with a trained checkpoint.
//
//   ann_test --config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags
//            --checkpoint=model.pth --images=dir_or_glob --out_dir=pred [--overlay]
//            [--logits_dir=logits] [--format=trainid|cityscapes]
//            [--test_mode=whole|slide --scales=... --flip --aug_test]
//
// Writes one PNG per image (<stem>.png): trainIds, or with --format=cityscapes labelIds for the
// test server (Cityscapes stems already end in _leftImg8bit); optionally a colour overlay
// (<stem>_overlay.png) and the scores before argmax (<stem>.pt, float32 [K, H, W], readable by
// Python's torch.load: logits for one pass, averaged probabilities for multi-scale / flip).
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ann/eval/predict_images.h"
#include "ann/eval/predictor.h"
#include "ann/io/checkpoint.h"
#include "ann/io/image.h"
#include "ann/io/palette.h"
#include "ann/io/torch_file.h"
#include "ann/model/model_config.h"
#include "ann/train/train_config.h"
#include "ann/util/atomic_file.h"
#include "ann/util/flags.h"
#include "ann/util/progress.h"
#include "ann/util/status_macros.h"
#include "ann/util/threads.h"
#include "gflags/gflags.h"

DEFINE_string(checkpoint, "", "Model checkpoint (.pth): mmseg, bare state_dict or authors'.");
DEFINE_string(images, "", "An image file, a directory of images, or a glob pattern.");
DEFINE_string(out_dir, "", "Directory for trainId PNGs (one per image).");
DEFINE_bool(overlay, false, "Also write <stem>_overlay.png: prediction colours over the image.");
DEFINE_string(logits_dir, "", "If set, write <stem>.pt logits (float32 [K, H, W]) here.");
DEFINE_string(format, "trainid", "Label PNGs: trainid, or cityscapes (labelIds for the server).");
DECLARE_int32(workers);

namespace ann {
namespace {

absl::Status Run() {
  if (FLAGS_checkpoint.empty()) return absl::InvalidArgumentError("--checkpoint is required");
  if (FLAGS_images.empty()) return absl::InvalidArgumentError("--images is required");
  if (FLAGS_out_dir.empty() && FLAGS_logits_dir.empty()) {
    return absl::InvalidArgumentError("give --out_dir and/or --logits_dir");
  }
  ANN_ASSIGN_OR_RETURN(ModelConfig config, ModelConfigFromFlags());
  ANN_RETURN_IF_ERROR(TrainConfigFromFlags(config).status());  // Rejects bad config values.
  ANN_ASSIGN_OR_RETURN(InferenceConfig inference, InferenceConfigFromFlags());
  PredictOutput output;
  ANN_ASSIGN_OR_RETURN(output.format, ParsePredictFormat(FLAGS_format));
  if (output.format == PredictOutput::Format::kCityscapes && config.num_classes != 19) {
    return absl::InvalidArgumentError("--format=cityscapes needs a 19-class model");
  }
  ANN_ASSIGN_OR_RETURN(std::vector<std::string> images, ListImages(FLAGS_images));
  const int threads = SetNumThreadsFromFlags();
  EncoderDecoder model(config);
  ANN_ASSIGN_OR_RETURN(LoadReport report,
                       LoadCheckpoint(FLAGS_checkpoint, *model, LoadMode::kStrict));
  std::fprintf(stderr, "%s: %s; %zu images, %d threads\n", FLAGS_checkpoint.c_str(),
               report.Summary().c_str(), images.size(), threads);
  Predictor predictor(model, inference);
  output.out_dir = FLAGS_out_dir;
  output.overlay = FLAGS_overlay;
  output.logits_dir = FLAGS_logits_dir;
  output.palette = PaletteFor(static_cast<int>(config.num_classes));
  output.workers = FLAGS_workers;
  return PredictImages(predictor, images, output);
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) {
  ann::ParseCommandLine(&argc, &argv,
                        "ann_test --config=FLAGS --checkpoint=PTH --images=PATH --out_dir=DIR");
  return ann::ExitCode(ann::Run());
}
