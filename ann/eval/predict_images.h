// Predicts a list of images and writes the results: label PNGs (trainIds, or Cityscapes
// labelIds named <city>_<seq>_<frame>_leftImg8bit.png for the test server), optional colour
// overlays and raw scores (<stem>.pt). Images are decoded by background workers. Shared by
// ann_test and ann_submit.
#ifndef ANN_EVAL_PREDICT_IMAGES_H_
#define ANN_EVAL_PREDICT_IMAGES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ann/eval/predictor.h"
#include "ann/io/palette.h"

namespace ann {

// What PredictImages writes, and where.
struct PredictOutput {
  enum class Format { kTrainId, kCityscapes } format = Format::kTrainId;
  std::string out_dir;     // Label PNGs (empty: none).
  bool overlay = false;    // <stem>_overlay.png next to them.
  std::string logits_dir;  // <stem>.pt float32 [K, H, W] (empty: none).
  std::vector<Rgb> palette;
  int workers = 2;
  std::string root;  // The folder the images were found in ("": their common folder).
};

// "trainid" or "cityscapes".
absl::StatusOr<PredictOutput::Format> ParsePredictFormat(const std::string& text);

// trainIds (CV_8UC1) → Cityscapes labelIds; 255 (and anything else) → 0.
cv::Mat TrainIdsToLabelIds(const cv::Mat& train_ids);

// The output name (no extension) of each image: PredictionNames(images, output.root). Fails
// before any work, naming both images, when two would still write one file (e.g. a.png's
// overlay and a_overlay.jpg's labels), and when an output folder of `output` holds input images.
absl::StatusOr<std::vector<std::string>> OutputNames(const std::vector<std::string>& images,
                                                     const PredictOutput& output);

// Predicts `images` in order and writes what `output` asks for, under OutputNames.
absl::Status PredictImages(Predictor& predictor, const std::vector<std::string>& images,
                           const PredictOutput& output);

}  // namespace ann

#endif  // ANN_EVAL_PREDICT_IMAGES_H_
