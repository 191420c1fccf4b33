#include "ann/data/dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "ann/data/dataset_file.h"
#include "ann/data/layout.h"
#include "ann/io/image.h"
#include "ann/util/files.h"
#include "ann/util/flags.h"
#include "ann/util/status_macros.h"
#include "glog/logging.h"

namespace ann {
namespace fs = std::filesystem;
namespace {

// The built-in descriptions, ann/data/datasets/<name>.json, in DatasetKind order.
struct BuiltinDescription {
  const char* file;
  const char* text;
};
constexpr BuiltinDescription kBuiltinDescriptions[] = {
#include "ann/data/builtin_datasets.inc"
};

std::vector<DatasetInfo> ReadBuiltinInfos() {
  std::vector<DatasetInfo> infos;
  for (const BuiltinDescription& d : kBuiltinDescriptions) {
    absl::StatusOr<DatasetInfo> info = ParseDatasetDescription(d.text, d.file);
    CHECK(info.ok()) << info.status();  // checked by dataset_test
    infos.push_back(*std::move(info));
  }
  for (DatasetKind kind : {DatasetKind::kCityscapes, DatasetKind::kAde20k, DatasetKind::kVocAug,
                           DatasetKind::kPascalContext}) {
    infos[static_cast<int>(kind)].kind = kind;
  }
  return infos;
}

}  // namespace

namespace {

// Ids of the files under `dir` (recursively) ending in `suffix`: paths relative to `dir`, suffix
// removed, ordered as mmseg orders them (by file name, suffix included).
absl::StatusOr<std::vector<std::string>> ScanIds(const std::string& dir,
                                                 const std::string& suffix) {
  ANN_ASSIGN_OR_RETURN(std::vector<std::string> files, ListFiles(dir, suffix, /*recursive=*/true));
  std::vector<std::string> names;
  // Lexically: an image under a linked folder keeps the path it was found by, as in mmcv.
  for (const std::string& file : files) {
    names.push_back(fs::path(file).lexically_relative(dir).string());
  }
  std::sort(names.begin(), names.end());
  for (std::string& name : names) name.resize(name.size() - suffix.size());
  return names;
}

}  // namespace

absl::StatusOr<DatasetKind> ParseDatasetKind(const std::string& name) {
  return ParseEnumFlag<DatasetKind>("dataset", name,
                                    {{"cityscapes", DatasetKind::kCityscapes},
                                     {"toy_cityscapes", DatasetKind::kCityscapes},
                                     {"ade20k", DatasetKind::kAde20k},
                                     {"ade", DatasetKind::kAde20k},
                                     {"voc_aug", DatasetKind::kVocAug},
                                     {"voc12aug", DatasetKind::kVocAug},
                                     {"voc", DatasetKind::kVocAug},
                                     {"pascal_context", DatasetKind::kPascalContext},
                                     {"pascal_context_59", DatasetKind::kPascalContext},
                                     {"custom", DatasetKind::kCustom}});
}

const DatasetInfo& GetDatasetInfo(DatasetKind kind) {
  static const auto* infos = new std::vector<DatasetInfo>(ReadBuiltinInfos());
  CHECK(kind != DatasetKind::kCustom) << "a custom dataset is read from its file";
  return (*infos)[static_cast<int>(kind)];
}

absl::StatusOr<std::string> ParseSplitFlag(const std::string& flag, const std::string& text) {
  if (text == "train" || text == "val" || text == "test") return text;
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": unknown split '", text, "' (expected train, val or test)"));
}

absl::StatusOr<std::vector<Sample>> ListSamples(const DatasetInfo& info,
                                                const std::string& data_root,
                                                const std::string& split) {
  ANN_RETURN_IF_ERROR(ParseSplitFlag("split", split).status());
  const std::vector<SplitPart>* parts = nullptr;
  std::vector<std::string> names;
  for (const auto& [name, its_parts] : info.splits) {
    if (name == split) parts = &its_parts;
    names.push_back(name);
  }
  if (parts == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        info.name, " has no '", split, "' split (it has ", absl::StrJoin(names, ", "), ")"));
  }
  std::vector<Sample> samples;
  for (const SplitPart& part : *parts) {
    const std::string images = absl::StrCat(data_root, "/", part.img_dir);
    const std::string labels = absl::StrCat(data_root, "/", part.ann_dir);
    std::vector<std::string> ids;
    if (part.split_file.empty()) {
      ANN_ASSIGN_OR_RETURN(ids, ScanIds(images, info.img_suffix));
    } else {
      ANN_ASSIGN_OR_RETURN(ids,
                           layout::ReadSplitList(absl::StrCat(data_root, "/", part.split_file)));
    }
    for (const std::string& id : ids) {
      Sample s{id, absl::StrCat(images, "/", id, info.img_suffix), "", ""};
      std::error_code ec;
      const std::string label = absl::StrCat(labels, "/", id, info.seg_map_suffix);
      if (!part.labels_optional || fs::exists(label, ec)) s.label = label;
      if (!info.instance_suffix.empty()) {
        const std::string instance = absl::StrCat(labels, "/", id, info.instance_suffix);
        if (fs::exists(instance, ec)) s.instance = instance;
      }
      samples.push_back(std::move(s));
    }
  }
  if (samples.empty()) {
    return absl::NotFoundError(
        absl::StrCat(data_root, ": split '", split, "' of ", info.name, " is empty"));
  }
  return samples;
}

absl::Status LoadImageAndLabel(const Sample& sample, const DatasetInfo& info, cv::Mat* image,
                               cv::Mat* label) {
  ANN_ASSIGN_OR_RETURN(*image, ReadColorImage(sample.image));
  ANN_ASSIGN_OR_RETURN(*label, LoadLabel(sample.label, info));
  if (image->size() != label->size()) {
    return absl::InvalidArgumentError(absl::StrCat(sample.label, ": label is ", label->cols, "x",
                                                   label->rows, " but its image is ", image->cols,
                                                   "x", image->rows));
  }
  return absl::OkStatus();
}

std::vector<Rgb> ModelPalette(const DatasetInfo& info, int64_t num_classes) {
  if (static_cast<int64_t>(info.palette.size()) == num_classes) return info.palette;
  return PaletteFor(static_cast<int>(num_classes));
}

absl::Status CheckClassCount(const DatasetInfo& info, int64_t num_classes) {
  if (num_classes == static_cast<int64_t>(info.class_names.size())) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--num_classes=", num_classes, " but ", info.name,
                                                 " has ", info.class_names.size(), " classes"));
}

void ReduceZeroLabel(cv::Mat& label) {
  for (int y = 0; y < label.rows; ++y) {
    uint8_t* row = label.ptr<uint8_t>(y);
    for (int x = 0; x < label.cols; ++x) {
      row[x] = row[x] == 0 ? 255 : row[x] == 255 ? 255 : row[x] - 1;
    }
  }
}

absl::StatusOr<cv::Mat> LoadLabel(const std::string& path, const DatasetInfo& info) {
  ANN_ASSIGN_OR_RETURN(cv::Mat label, ReadLabelImage(path));
  if (label.channels() != 1 || label.depth() != CV_8U) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": label must be a single-channel 8-bit PNG, found ", label.channels(),
                     " channel(s) of depth ", label.depth() == CV_16U ? "16-bit" : "non-8-bit"));
  }
  const cv::Mat ignored = label == info.ignore_index;
  double max_value = 0;
  cv::minMaxLoc(label, nullptr, &max_value, nullptr, nullptr, ~ignored);
  if (max_value > info.max_stored_label()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": label value ", static_cast<int>(max_value), " is not a ", info.name, " class"));
  }
  // Our ignore value is 255 (the losses' and metrics'), whatever the dataset stores.
  if (info.ignore_index != 255) label.setTo(255, ignored);
  if (info.reduce_zero_label) ReduceZeroLabel(label);
  return label;
}

absl::Status RequireLabels(const std::vector<Sample>& samples, const std::string& split) {
  for (const Sample& s : samples) {
    if (s.label.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(s.image, ": split '", split, "' has no labels to evaluate against"));
    }
  }
  return absl::OkStatus();
}

}  // namespace ann
