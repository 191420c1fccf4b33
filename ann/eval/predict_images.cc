#include "ann/eval/predict_images.h"

#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "ann/data/cityscapes_labels.h"
#include "ann/eval/prediction_names.h"
#include "ann/io/image.h"
#include "ann/io/torch_file.h"
#include "ann/util/atomic_file.h"
#include "ann/util/files.h"
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

absl::StatusOr<std::vector<std::string>> OutputNames(const std::vector<std::string>& images,
                                                     const PredictOutput& output) {
  namespace fs = std::filesystem;
  ANN_RETURN_IF_ERROR(CheckOutputFolder("out_dir", output.out_dir, images));
  ANN_RETURN_IF_ERROR(CheckOutputFolder("logits_dir", output.logits_dir, images));
  std::vector<std::string> names = PredictionNames(images, output.root);
  // Every file each image will write, by the image that writes it.
  std::map<std::string, size_t> writer;
  for (size_t i = 0; i < images.size(); ++i) {
    std::vector<std::string> files;
    if (!output.out_dir.empty()) {
      files.push_back(absl::StrCat(output.out_dir, "/", names[i], ".png"));
      if (output.overlay) {
        files.push_back(absl::StrCat(output.out_dir, "/", names[i], "_overlay.png"));
      }
    }
    if (!output.logits_dir.empty()) {
      files.push_back(absl::StrCat(output.logits_dir, "/", names[i], ".pt"));
    }
    for (const std::string& file : files) {
      auto [it, added] = writer.emplace(fs::path(file).lexically_normal().string(), i);
      if (!added) {
        return absl::InvalidArgumentError(absl::StrCat(images[it->second], " and ", images[i],
                                                       " would both be written as ", file,
                                                       "; rename one"));
      }
    }
  }
  return names;
}

absl::Status PredictImages(Predictor& predictor, const std::vector<std::string>& images,
                           const PredictOutput& output) {
  ANN_ASSIGN_OR_RETURN(const std::vector<std::string> names, OutputNames(images, output));
  ANN_RETURN_IF_ERROR(MakeDirectories(output.out_dir));
  ANN_RETURN_IF_ERROR(MakeDirectories(output.logits_dir));
  Progress progress("predict", static_cast<int64_t>(images.size()),
                    std::max<int64_t>(1, static_cast<int64_t>(images.size()) / 10));
  Prefetch<absl::StatusOr<cv::Mat>> decoded(images.size(), output.workers, 4,
                                            [&](size_t i) { return ReadColorImage(images[i]); });
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
