#include "ann/eval/predict_images.h"

#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "ann/data/cityscapes_labels.h"
#include "ann/io/image.h"
#include "ann/io/torch_file.h"
#include "ann/util/atomic_file.h"
#include "ann/util/flags.h"
#include "ann/util/prefetch.h"
#include "ann/util/progress.h"
#include "ann/util/status_macros.h"

namespace ann {

absl::StatusOr<PredictOutput::Format> ParsePredictFormat(const std::string& text) {
  return ParseEnumFlag<PredictOutput::Format>("format", text,
                                              {{"trainid", PredictOutput::Format::kTrainId},
                                               {"cityscapes", PredictOutput::Format::kCityscapes}});
}

cv::Mat TrainIdsToLabelIds(const cv::Mat& train_ids) {
  cv::Mat out;
  const auto& table = TrainIdToLabelId();
  cv::LUT(train_ids, cv::Mat(1, 256, CV_8UC1, const_cast<uint8_t*>(table.data())), out);
  return out;
}

std::vector<std::string> OutputNames(const std::vector<std::string>& images) {
  namespace fs = std::filesystem;
  std::vector<std::string> names;
  std::set<std::string> seen;
  bool unique = true;
  for (const std::string& path : images) {
    names.push_back(FileStem(path));
    unique = unique && seen.insert(names.back()).second;
  }
  if (unique || images.empty()) return names;
  fs::path common = fs::path(images[0]).parent_path();
  for (const std::string& path : images) {
    while (!common.empty() && fs::relative(path, common).string().rfind("..", 0) == 0) {
      common = common.parent_path();
    }
  }
  for (size_t i = 0; i < images.size(); ++i) {
    names[i] = fs::relative(images[i], common).replace_extension().string();
  }
  return names;
}

absl::Status PredictImages(Predictor& predictor, const std::vector<std::string>& images,
                           const PredictOutput& output) {
  ANN_RETURN_IF_ERROR(MakeDirectories(output.out_dir));
  ANN_RETURN_IF_ERROR(MakeDirectories(output.logits_dir));
  Progress progress("predict", static_cast<int64_t>(images.size()),
                    std::max<int64_t>(1, static_cast<int64_t>(images.size()) / 10));
  Prefetch<absl::StatusOr<cv::Mat>> decoded(images.size(), output.workers, 4,
                                            [&](size_t i) { return ReadColorImage(images[i]); });
  const std::vector<std::string> names = OutputNames(images);
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& stem = names[i];
    ANN_ASSIGN_OR_RETURN(cv::Mat image, decoded.Next());
    ANN_RETURN_IF_ERROR(predictor.CheckImage(images[i], image.size()));
    torch::Tensor scores = predictor.Logits(image);
    if (!output.out_dir.empty()) {
      cv::Mat labels = LabelTensorToMat(Predictor::Labels(scores));
      cv::Mat written =
          output.format == PredictOutput::Format::kCityscapes ? TrainIdsToLabelIds(labels) : labels;
      ANN_RETURN_IF_ERROR(WriteImage(absl::StrCat(output.out_dir, "/", stem, ".png"), written));
      if (output.overlay) {
        ANN_RETURN_IF_ERROR(WriteImage(absl::StrCat(output.out_dir, "/", stem, "_overlay.png"),
                                       Overlay(image, Colorize(labels, output.palette))));
      }
    }
    if (!output.logits_dir.empty()) {
      ANN_RETURN_IF_ERROR(WriteTorchFile(absl::StrCat(output.logits_dir, "/", stem, ".pt"),
                                         *PickleValue::Tensor(scores.contiguous())));
    }
    progress.Advance(1, stem);
  }
  progress.Finish();
  return absl::OkStatus();
}

}  // namespace ann
