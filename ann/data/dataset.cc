#include "ann/data/dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "ann/data/cityscapes_labels.h"
#include "ann/data/layout.h"
#include "ann/io/image.h"
#include "ann/util/files.h"
#include "ann/util/flags.h"
#include "ann/util/status_macros.h"

namespace ann {
namespace fs = std::filesystem;
namespace {

std::vector<Rgb> VocPalette(int n) {
  std::vector<Rgb> palette(n);
  for (int i = 0; i < n; ++i) {
    int c = i;
    uint8_t r = 0, g = 0, b = 0;
    for (int j = 0; j < 8; ++j) {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
      c >>= 3;
    }
    palette[i] = {r, g, b};
  }
  return palette;
}

std::vector<DatasetInfo> MakeInfos() {
  std::vector<DatasetInfo> infos;
  infos.push_back({DatasetKind::kCityscapes, "cityscapes", CityscapesClassNames(),
                   CityscapesPalette(), false, 18});
  std::vector<std::string> ade = {"wall",
                                  "building",
                                  "sky",
                                  "floor",
                                  "tree",
                                  "ceiling",
                                  "road",
                                  "bed",
                                  "windowpane",
                                  "grass",
                                  "cabinet",
                                  "sidewalk",
                                  "person",
                                  "earth",
                                  "door",
                                  "table",
                                  "mountain",
                                  "plant",
                                  "curtain",
                                  "chair",
                                  "car",
                                  "water",
                                  "painting",
                                  "sofa",
                                  "shelf",
                                  "house",
                                  "sea",
                                  "mirror",
                                  "rug",
                                  "field",
                                  "armchair",
                                  "seat",
                                  "fence",
                                  "desk",
                                  "rock",
                                  "wardrobe",
                                  "lamp",
                                  "bathtub",
                                  "railing",
                                  "cushion",
                                  "base",
                                  "box",
                                  "column",
                                  "signboard",
                                  "chest of drawers",
                                  "counter",
                                  "sand",
                                  "sink",
                                  "skyscraper",
                                  "fireplace",
                                  "refrigerator",
                                  "grandstand",
                                  "path",
                                  "stairs",
                                  "runway",
                                  "case",
                                  "pool table",
                                  "pillow",
                                  "screen door",
                                  "stairway",
                                  "river",
                                  "bridge",
                                  "bookcase",
                                  "blind",
                                  "coffee table",
                                  "toilet",
                                  "flower",
                                  "book",
                                  "hill",
                                  "bench",
                                  "countertop",
                                  "stove",
                                  "palm",
                                  "kitchen island",
                                  "computer",
                                  "swivel chair",
                                  "boat",
                                  "bar",
                                  "arcade machine",
                                  "hovel",
                                  "bus",
                                  "towel",
                                  "light",
                                  "truck",
                                  "tower",
                                  "chandelier",
                                  "awning",
                                  "streetlight",
                                  "booth",
                                  "television receiver",
                                  "airplane",
                                  "dirt track",
                                  "apparel",
                                  "pole",
                                  "land",
                                  "bannister",
                                  "escalator",
                                  "ottoman",
                                  "bottle",
                                  "buffet",
                                  "poster",
                                  "stage",
                                  "van",
                                  "ship",
                                  "fountain",
                                  "conveyer belt",
                                  "canopy",
                                  "washer",
                                  "plaything",
                                  "swimming pool",
                                  "stool",
                                  "barrel",
                                  "basket",
                                  "waterfall",
                                  "tent",
                                  "bag",
                                  "minibike",
                                  "cradle",
                                  "oven",
                                  "ball",
                                  "food",
                                  "step",
                                  "tank",
                                  "trade name",
                                  "microwave",
                                  "pot",
                                  "animal",
                                  "bicycle",
                                  "lake",
                                  "dishwasher",
                                  "screen",
                                  "blanket",
                                  "sculpture",
                                  "hood",
                                  "sconce",
                                  "vase",
                                  "traffic light",
                                  "tray",
                                  "ashcan",
                                  "fan",
                                  "pier",
                                  "crt screen",
                                  "plate",
                                  "monitor",
                                  "bulletin board",
                                  "shower",
                                  "radiator",
                                  "glass",
                                  "clock",
                                  "flag"};
  infos.push_back({DatasetKind::kAde20k, "ade20k", ade, PaletteFor(150), true, 150});
  std::vector<std::string> voc = {
      "background", "aeroplane", "bicycle",     "bird",  "boat",        "bottle", "bus",
      "car",        "cat",       "chair",       "cow",   "diningtable", "dog",    "horse",
      "motorbike",  "person",    "pottedplant", "sheep", "sofa",        "train",  "tvmonitor"};
  infos.push_back({DatasetKind::kVocAug, "voc_aug", voc, VocPalette(21), false, 20});
  std::vector<std::string> context = {
      "aeroplane", "bag",     "bed",      "bedclothes", "bench",       "bicycle",   "bird",
      "boat",      "book",    "bottle",   "building",   "bus",         "cabinet",   "car",
      "cat",       "ceiling", "chair",    "cloth",      "computer",    "cow",       "cup",
      "curtain",   "dog",     "door",     "fence",      "floor",       "flower",    "food",
      "grass",     "ground",  "horse",    "keyboard",   "light",       "motorbike", "mountain",
      "mouse",     "person",  "plate",    "platform",   "pottedplant", "road",      "rock",
      "sheep",     "shelves", "sidewalk", "sign",       "sky",         "snow",      "sofa",
      "table",     "track",   "train",    "tree",       "truck",       "tvmonitor", "wall",
      "water",     "window",  "wood"};
  infos.push_back(
      {DatasetKind::kPascalContext, "pascal_context", context, PaletteFor(59), true, 59});
  return infos;
}

}  // namespace

namespace {

// Ids of files under `dir` (recursively) ending in `suffix`, relative to `dir`, suffix removed.
absl::StatusOr<std::vector<std::string>> ScanIds(const std::string& dir,
                                                 const std::string& suffix) {
  ANN_ASSIGN_OR_RETURN(std::vector<std::string> files, ListFiles(dir, suffix, /*recursive=*/true));
  std::vector<std::string> ids;
  for (const std::string& file : files) {
    const std::string rel = fs::relative(file, dir).string();
    ids.push_back(rel.substr(0, rel.size() - suffix.size()));
  }
  // Sorted again: removing the suffix can change the order ("a1_x" < "a_x", but "a" < "a1").
  std::sort(ids.begin(), ids.end());
  return ids;
}

absl::StatusOr<std::vector<std::string>> ListOrScan(const std::string& list, const std::string& dir,
                                                    const std::string& suffix) {
  std::error_code ec;
  if (fs::exists(list, ec)) return layout::ReadSplitList(list);
  return ScanIds(dir, suffix);
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
                                     {"pascal_context_59", DatasetKind::kPascalContext}});
}

const DatasetInfo& GetDatasetInfo(DatasetKind kind) {
  static const auto* infos = new std::vector<DatasetInfo>(MakeInfos());
  return (*infos)[static_cast<int>(kind)];
}

absl::StatusOr<std::vector<Sample>> ListSamples(DatasetKind kind, const std::string& data_root,
                                                const std::string& split) {
  if (split != "train" && split != "val" && split != "test") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown split '", split, "' (expected train, val or test)"));
  }
  std::vector<Sample> samples;
  std::vector<std::string> ids;
  switch (kind) {
    case DatasetKind::kCityscapes: {
      const std::string images = layout::CityscapesImageDir(data_root, split);
      ANN_ASSIGN_OR_RETURN(ids, ListOrScan(layout::SplitList(data_root, split), images,
                                           layout::kCityscapesImageSuffix));
      for (const std::string& id : ids) {
        Sample s{id, layout::CityscapesImage(data_root, split, id), "", ""};
        std::error_code ec;
        const std::string label =
            layout::CityscapesLabel(data_root, split, id, layout::kCityscapesTrainIdSuffix);
        if (split != "test" || fs::exists(label, ec)) s.label = label;
        const std::string instance =
            layout::CityscapesLabel(data_root, split, id, layout::kCityscapesInstanceSuffix);
        if (fs::exists(instance, ec)) s.instance = instance;
        samples.push_back(std::move(s));
      }
      break;
    }
    case DatasetKind::kAde20k: {
      if (split == "test") return absl::InvalidArgumentError("ade20k has no labelled test split");
      const std::string images = layout::Ade20kImageDir(data_root, split);
      ANN_ASSIGN_OR_RETURN(ids, ListOrScan(layout::SplitList(data_root, split), images, ".jpg"));
      for (const std::string& id : ids) {
        samples.push_back({id, absl::StrCat(images, "/", id, ".jpg"),
                           absl::StrCat(layout::Ade20kLabelDir(data_root, split), "/", id, ".png"),
                           ""});
      }
      break;
    }
    case DatasetKind::kVocAug:
    case DatasetKind::kPascalContext: {
      if (split == "test") return absl::InvalidArgumentError("no labelled test split");
      const bool context = kind == DatasetKind::kPascalContext;
      const std::string list = !context && split == "train" ? "aug.txt" : split + ".txt";
      ANN_ASSIGN_OR_RETURN(ids, layout::ReadSplitList(absl::StrCat(
                                    layout::VocListDir(data_root, context), "/", list)));
      for (const std::string& id : ids) {
        samples.push_back(
            {id, layout::VocImage(data_root, id), layout::VocLabel(data_root, id, context), ""});
      }
      break;
    }
  }
  if (samples.empty()) {
    return absl::NotFoundError(absl::StrCat(data_root, ": split '", split, "' of ",
                                            GetDatasetInfo(kind).name, " is empty"));
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
  double max_value = 0;
  cv::Mat valid = label != 255;
  cv::minMaxLoc(label, nullptr, &max_value, nullptr, nullptr, valid);
  if (max_value > info.max_stored_label) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": label value ", static_cast<int>(max_value), " is not a ", info.name, " class"));
  }
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
