#include "datasets/pascal_context.h"

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "ann/io/image.h"
#include "ann/util/status_macros.h"
#include "nlohmann/json.hpp"
#include "opencv2/core.hpp"

namespace ann {
namespace fs = std::filesystem;

const std::vector<int>& PascalContextCategoryIds() {
  static const auto* ids = new std::vector<int>{
      0,   2,   9,   18,  19,  22,  23,  25,  31,  33,  34,  44,  45,  46,  59,
      65,  68,  72,  80,  85,  98,  104, 105, 113, 115, 144, 158, 159, 162, 187,
      189, 207, 220, 232, 258, 259, 260, 284, 295, 296, 308, 324, 326, 347, 349,
      354, 355, 360, 366, 368, 397, 415, 416, 420, 424, 427, 440, 445, 454, 458};
  return *ids;
}

absl::StatusOr<std::vector<uint8_t>> DecodeRleCounts(const std::vector<int64_t>& counts, int h,
                                                     int w) {
  std::vector<uint8_t> mask(static_cast<size_t>(h) * w, 0);
  size_t pos = 0;
  uint8_t value = 0;
  for (int64_t c : counts) {
    if (c < 0 || pos + static_cast<size_t>(c) > mask.size()) {
      return absl::InvalidArgumentError("RLE counts exceed the mask size");
    }
    std::fill(mask.begin() + pos, mask.begin() + pos + c, value);
    pos += c;
    value = 1 - value;
  }
  if (pos != mask.size()) return absl::InvalidArgumentError("RLE counts do not cover the mask");
  return mask;
}

absl::StatusOr<std::vector<uint8_t>> DecodeRleString(const std::string& s, int h, int w) {
  std::vector<int64_t> counts;
  size_t p = 0;
  while (p < s.size()) {
    int64_t x = 0;
    int k = 0;
    bool more = true;
    while (more) {
      if (p >= s.size()) return absl::InvalidArgumentError("truncated RLE string");
      const int64_t c = static_cast<int64_t>(s[p]) - 48;
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) != 0;
      ++p;
      ++k;
      if (!more && (c & 0x10)) x |= -(int64_t{1} << (5 * k));
    }
    if (counts.size() > 2) x += counts[counts.size() - 2];
    counts.push_back(x);
  }
  return DecodeRleCounts(counts, h, w);
}

namespace {

struct Annotation {
  int category = 0;
  const nlohmann::json* segmentation = nullptr;
};

struct ImageEntry {
  std::string stem;
  std::string phase;
  int height = 0, width = 0;
  std::vector<Annotation> annotations;
};

absl::StatusOr<cv::Mat> PaintImage(const std::string& json_path, const ImageEntry& entry,
                                   const std::string& image_path) {
  ANN_ASSIGN_OR_RETURN(cv::Mat image, ReadColorImage(image_path));
  if (image.rows != entry.height || image.cols != entry.width) {
    return absl::InvalidArgumentError(absl::StrCat(image_path, ": image is ", image.cols, "x",
                                                   image.rows, " but ", json_path, " says ",
                                                   entry.width, "x", entry.height));
  }
  std::vector<int> category(static_cast<size_t>(entry.height) * entry.width, 0);  // column-major
  for (const Annotation& a : entry.annotations) {
    const nlohmann::json& seg = *a.segmentation;
    absl::StatusOr<std::vector<uint8_t>> mask = absl::InvalidArgumentError("no counts");
    int h = entry.height, w = entry.width;
    try {
      if (seg.contains("size")) {
        h = seg.at("size").at(0).get<int>();
        w = seg.at("size").at(1).get<int>();
      }
      if (h != entry.height || w != entry.width) {
        return absl::InvalidArgumentError(absl::StrCat(json_path, ": image ", entry.stem,
                                                       ": mask size differs from the image's"));
      }
      const nlohmann::json& counts = seg.at("counts");
      mask = counts.is_string() ? DecodeRleString(counts.get<std::string>(), h, w)
                                : DecodeRleCounts(counts.get<std::vector<int64_t>>(), h, w);
    } catch (const nlohmann::json::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat(json_path, ": image ", entry.stem, ": bad segmentation: ", e.what()));
    }
    if (!mask.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(json_path, ": image ", entry.stem, ": ", mask.status().message()));
    }
    for (size_t i = 0; i < mask->size(); ++i) {
      if ((*mask)[i]) category[i] = a.category;
    }
  }
  const std::vector<int>& ids = PascalContextCategoryIds();
  cv::Mat label(entry.height, entry.width, CV_8UC1);
  for (int x = 0; x < entry.width; ++x) {
    for (int y = 0; y < entry.height; ++y) {
      const int c = category[static_cast<size_t>(x) * entry.height + y];
      auto it = std::lower_bound(ids.begin(), ids.end(), c);
      if (it == ids.end() || *it != c) {
        return absl::InvalidArgumentError(
            absl::StrCat(json_path, ": image ", entry.stem, ": category id ", c,
                         " is not one of the 59 PASCAL Context classes or background"));
      }
      label.at<uint8_t>(y, x) = static_cast<uint8_t>(it - ids.begin());
    }
  }
  return label;
}

}  // namespace

absl::Status PreprocessPascalContext(const PreprocessOptions& o) {
  const std::string voc = absl::StrCat(o.src, "/VOCdevkit/VOC2010");
  std::string json_path = o.json;
  std::error_code ec;
  if (json_path.empty()) {
    for (const std::string& candidate :
         {voc + "/trainval_merged.json", absl::StrCat(o.src, "/trainval_merged.json")}) {
      if (fs::exists(candidate, ec)) json_path = candidate;
    }
    if (json_path.empty()) {
      return absl::NotFoundError(
          absl::StrCat(o.src, ": trainval_merged.json not found (or pass --detail_json)"));
    }
  }
  std::ifstream in(json_path);
  if (!in) return absl::NotFoundError(absl::StrCat(json_path, ": cannot open"));
  nlohmann::json data;
  std::map<int64_t, ImageEntry> images;
  try {
    data = nlohmann::json::parse(in);
    for (const auto& img : data.at("images")) {
      ImageEntry e;
      e.stem = fs::path(img.at("file_name").get<std::string>()).stem();
      e.phase = img.at("phase").get<std::string>();
      e.height = img.at("height").get<int>();
      e.width = img.at("width").get<int>();
      images[img.at("image_id").get<int64_t>()] = e;
    }
    for (const auto& seg : data.at("annos_segmentation")) {
      auto it = images.find(seg.at("image_id").get<int64_t>());
      if (it == images.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            json_path, ": segmentation ", seg.value("id", -1), " refers to an unknown image"));
      }
      it->second.annotations.push_back({seg.at("category_id").get<int>(), &seg.at("segmentation")});
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(
        absl::StrCat(json_path, ": not a Detail annotation file: ", e.what()));
  }
  const std::string out = absl::StrCat(o.dst, "/VOCdevkit/VOC2010");
  std::map<std::string, std::vector<std::string>> lists;
  std::vector<Job> jobs;
  for (const auto& [id, entry] : images) {
    if (entry.phase != "train" && entry.phase != "val") continue;
    lists[entry.phase].push_back(entry.stem);
    const std::string output = layout::VocLabel(out, layout::kVocContext, entry.stem);
    const ImageEntry* e = &entry;
    jobs.push_back({output, [=, &json_path]() -> absl::Status {
                      const std::string image_path =
                          absl::StrCat(voc, "/JPEGImages/", e->stem, ".jpg");
                      ANN_ASSIGN_OR_RETURN(cv::Mat label, PaintImage(json_path, *e, image_path));
                      ANN_RETURN_IF_ERROR(MirrorFile(image_path, layout::VocImage(out, e->stem)));
                      return WriteImage(output, label);
                    }});
  }
  JobReport report = RunJobs(jobs, o.workers, "pascal_context");
  for (const std::string& split : std::vector<std::string>{"train", "val"}) {
    if (lists[split].empty()) {
      report.errors.push_back(absl::StrCat(json_path, ": no ", split, " images (empty split)"));
    }
    std::sort(lists[split].begin(), lists[split].end());
  }
  ANN_RETURN_IF_ERROR(FinishReport("pascal_context",
                                   {{"train", static_cast<int64_t>(lists["train"].size())},
                                    {"val", static_cast<int64_t>(lists["val"].size())}},
                                   report));
  for (const auto& [split, ids] : lists) {
    ANN_RETURN_IF_ERROR(layout::WriteSplitList(
        absl::StrCat(layout::VocListDir(out, /*context=*/true), "/", split, ".txt"), ids));
  }
  return absl::OkStatus();
}

}  // namespace ann
