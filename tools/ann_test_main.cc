// ann_test: predictions for unlabelled images with a trained checkpoint.
//
//   ann_test --config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags
//            --checkpoint=model.pth --images=dir_or_glob --out_dir=pred [--overlay]
//            [--logits_dir=logits]
//
// Writes one trainId PNG per image (<stem>.png), optionally a colour overlay
// (<stem>_overlay.png) and the logits before argmax (<stem>.pt, float32 [K, H, W], readable by
// Python's torch.load).
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ann/eval/predictor.h"
#include "ann/io/checkpoint.h"
#include "ann/io/image.h"
#include "ann/io/palette.h"
#include "ann/io/torch_file.h"
#include "ann/model/model_config.h"
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

namespace ann {
namespace {

absl::Status Run() {
  if (FLAGS_checkpoint.empty()) return absl::InvalidArgumentError("--checkpoint is required");
  if (FLAGS_images.empty()) return absl::InvalidArgumentError("--images is required");
  if (FLAGS_out_dir.empty() && FLAGS_logits_dir.empty()) {
    return absl::InvalidArgumentError("give --out_dir and/or --logits_dir");
  }
  ANN_ASSIGN_OR_RETURN(ModelConfig config, ModelConfigFromFlags());
  ANN_ASSIGN_OR_RETURN(std::vector<std::string> images, ListImages(FLAGS_images));
  const int threads = SetNumThreadsFromFlags();
  EncoderDecoder model(config);
  ANN_ASSIGN_OR_RETURN(LoadReport report,
                       LoadCheckpoint(FLAGS_checkpoint, *model, LoadMode::kStrict));
  std::fprintf(stderr, "%s: %s; %zu images, %d threads\n", FLAGS_checkpoint.c_str(),
               report.Summary().c_str(), images.size(), threads);
  ANN_RETURN_IF_ERROR(MakeDirectories(FLAGS_out_dir));
  ANN_RETURN_IF_ERROR(MakeDirectories(FLAGS_logits_dir));
  Predictor predictor(model);
  const std::vector<Rgb> palette = PaletteFor(static_cast<int>(config.num_classes));
  Progress progress("ann_test", static_cast<int64_t>(images.size()), 10);
  for (const std::string& path : images) {
    ANN_ASSIGN_OR_RETURN(cv::Mat image, ReadColorImage(path));
    torch::Tensor logits = predictor.Logits(image);
    const std::string stem = FileStem(path);
    if (!FLAGS_out_dir.empty()) {
      cv::Mat labels = LabelTensorToMat(Predictor::Labels(logits));
      ANN_RETURN_IF_ERROR(WriteImage(absl::StrCat(FLAGS_out_dir, "/", stem, ".png"), labels));
      if (FLAGS_overlay) {
        ANN_RETURN_IF_ERROR(WriteImage(absl::StrCat(FLAGS_out_dir, "/", stem, "_overlay.png"),
                                       Overlay(image, Colorize(labels, palette))));
      }
    }
    if (!FLAGS_logits_dir.empty()) {
      ANN_RETURN_IF_ERROR(WriteTorchFile(absl::StrCat(FLAGS_logits_dir, "/", stem, ".pt"),
                                         *PickleValue::Tensor(logits)));
    }
    progress.Advance(1, stem);
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) {
  ann::ParseCommandLine(&argc, &argv,
                        "ann_test --config=FLAGS --checkpoint=PTH --images=PATH --out_dir=DIR");
  return ann::ExitCode(ann::Run());
}
