#include "datasets/custom.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ann/data/label_stats.h"
#include "ann/data/layout.h"
#include "ann/io/image.h"
#include "ann/util/files.h"
#include "ann/util/json.h"
#include "ann/util/status_macros.h"
#include "glog/logging.h"

namespace ann {
namespace fs = std::filesystem;
namespace {

// "value 7 (123 pixels, first at x=4, y=9)": where a bad value or colour is.
template <typename Pixel, typename Bad>
std::string Where(const cv::Mat& mask, const Bad& bad) {
  int64_t count = 0;
  cv::Point first(-1, -1);
  for (int y = 0; y < mask.rows; ++y) {
    for (int x = 0; x < mask.cols; ++x) {
      if (bad(mask.at<Pixel>(y, x))) {
        if (count++ == 0) first = {x, y};
      }
    }
  }
  return absl::StrFormat("%d pixels, first at x=%d, y=%d", count, first.x, first.y);
}

// The ids under `dir` ending in `suffix` (as the reader scans them), the output tree `dst` left
// out. A missing folder holds none; a link loop or an unreadable folder is an error.
absl::StatusOr<std::set<std::string>> IdsIn(const std::string& dir, const std::string& suffix,
                                            const std::string& dst) {
  ANN_ASSIGN_OR_RETURN(const std::vector<std::string> files, FindFiles(dir, suffix, {dst}));
  std::set<std::string> ids;
  for (const std::string& file : files) {
    const std::string rel = fs::path(file).lexically_relative(dir).string();
    ids.insert(rel.substr(0, rel.size() - suffix.size()));
  }
  return ids;
}

}  // namespace

absl::StatusOr<cv::Mat> StoredLabels(const cv::Mat& mask, const DatasetInfo& info,
                                     const std::string& path) {
  const int k = static_cast<int>(info.class_names.size());
  const int offset = info.reduce_zero_label ? 1 : 0;
  cv::Mat values;
  if (mask.channels() >= 3) {
    std::vector<cv::Mat> planes;
    cv::split(mask, planes);
    const bool grey = cv::countNonZero(planes[0] != planes[1]) == 0 &&
                      cv::countNonZero(planes[1] != planes[2]) == 0;
    std::map<uint32_t, int> colour_class;
    for (int c = 0; c < k; ++c) {
      const Rgb& rgb = info.palette[c];
      colour_class[(rgb[0] << 16) | (rgb[1] << 8) | rgb[2]] = c;
    }
    auto key = [](const cv::Vec3b& p) { return (p[2] << 16) | (p[1] << 8) | p[0]; };
    cv::Mat three;
    if (mask.channels() == 4) {
      cv::Mat channels[] = {planes[0], planes[1], planes[2]};
      cv::merge(channels, 3, three);
    } else {
      three = mask;
    }
    if (three.depth() != CV_8U) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": a colour mask must be 8-bit"));
    }
    bool all_known = true;
    for (int y = 0; y < three.rows && all_known; ++y) {
      for (int x = 0; x < three.cols; ++x) {
        if (!colour_class.count(key(three.at<cv::Vec3b>(y, x)))) {
          all_known = false;
          break;
        }
      }
    }
    if (!all_known && grey) {
      values = planes[0];  // indices saved as a grey RGB image
    } else {
      values.create(three.size(), CV_8UC1);
      for (int y = 0; y < three.rows; ++y) {
        for (int x = 0; x < three.cols; ++x) {
          const cv::Vec3b p = three.at<cv::Vec3b>(y, x);
          auto it = colour_class.find(key(p));
          if (it == colour_class.end()) {
            return absl::InvalidArgumentError(absl::StrFormat(
                "%s: colour (%d, %d, %d) (%s) is not in the palette of %s", path, p[2], p[1], p[0],
                Where<cv::Vec3b>(three, [&](const cv::Vec3b& q) { return q == p; }), info.name));
          }
          values.at<uint8_t>(y, x) = static_cast<uint8_t>(it->second + offset);
        }
      }
      return values;
    }
  } else {
    values = mask;
  }
  if (values.depth() != CV_8U && values.depth() != CV_16U) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": a mask must hold 8 or 16-bit integers"));
  }
  cv::Mat wide;
  values.convertTo(wide, CV_32S);
  const int max_stored = info.max_stored_label();
  auto bad = [&](int v) {
    return v != info.ignore_index && (v > max_stored || (info.reduce_zero_label && v < 0));
  };
  // The largest value that is not the ignore index (masks often hold 255 borders).
  double max_value = 0;
  const cv::Mat not_ignored = wide != info.ignore_index;
  if (cv::countNonZero(not_ignored) > 0) {
    cv::minMaxLoc(wide, nullptr, &max_value, nullptr, nullptr, not_ignored);
  }
  for (int y = 0; y < wide.rows; ++y) {
    const int* row = wide.ptr<int>(y);
    for (int x = 0; x < wide.cols; ++x) {
      if (!bad(row[x])) continue;
      const int v = row[x];
      std::string hint;
      if (!info.reduce_zero_label && v == k && static_cast<int>(max_value) == k) {
        hint = absl::StrCat("; values run up to ", k,
                            ": set reduce_zero_label if 0 means 'no class' and 1..", k,
                            " are the classes");
      }
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: value %d (%s) is not a class (%d..%d) nor the ignore index %d%s",
                          path, v, Where<int>(wide, [&](int q) { return q == v; }), offset,
                          max_stored, info.ignore_index, hint));
    }
  }
  cv::Mat stored;
  wide.convertTo(stored, CV_8U);
  return stored;
}

absl::Status PreprocessCustom(const DatasetInfo& info, const PreprocessOptions& o) {
  if (!(o.val_ratio > 0 && o.val_ratio < 1)) {  // nan too
    return absl::InvalidArgumentError("--val_ratio: must be in (0, 1)");
  }
  if (SamePath(o.src, o.dst)) {
    return absl::InvalidArgumentError(
        "--dst: the same folder as --src: the converted masks would replace the originals; give "
        "another folder");
  }
  // Ids per split part, and the parts whose lists must be written.
  struct PartIds {
    std::string split;
    const SplitPart* part;
    std::vector<std::string> ids;
    bool write_list;
  };
  std::vector<PartIds> parts;
  std::map<std::string, std::vector<size_t>> unlisted_by_folder;  // img_dir → parts without lists
  for (const auto& [split, its] : info.splits) {
    for (const SplitPart& part : its) {
      PartIds p{split, &part, {}, false};
      std::error_code ec;
      const std::string listed = absl::StrCat(o.src, "/", part.split_file);
      if (!part.split_file.empty() && fs::exists(listed, ec)) {
        ANN_ASSIGN_OR_RETURN(p.ids, layout::ReadSplitList(listed));
        p.write_list = true;
      } else {
        unlisted_by_folder[part.img_dir].push_back(parts.size());
      }
      parts.push_back(std::move(p));
    }
  }
  // Parts without a list in --src: the images of their folder; train and val sharing a folder
  // are split at random (seeded), val_ratio of the images to val.
  for (const auto& [folder, indices] : unlisted_by_folder) {
    const std::string dir = absl::StrCat(o.src, "/", folder);
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
      return absl::NotFoundError(absl::StrCat(dir, ": no such directory"));
    ANN_ASSIGN_OR_RETURN(const std::set<std::string> found, IdsIn(dir, info.img_suffix, o.dst));
    std::vector<std::string> ids(found.begin(), found.end());
    if (indices.size() == 1) {
      parts[indices[0]].ids = ids;
      parts[indices[0]].write_list = !parts[indices[0]].part->split_file.empty();
      continue;
    }
    std::vector<std::string> names;
    for (size_t i : indices) names.push_back(parts[i].split);
    std::sort(names.begin(), names.end());
    if (names != std::vector<std::string>{"train", "val"}) {
      return absl::InvalidArgumentError(absl::StrCat(
          dir, ": splits ", absl::StrJoin(names, ", "),
          " all read this folder and --src has no split lists for them (only train and val can "
          "be split at random)"));
    }
    for (size_t i : indices) {
      if (parts[i].part->split_file.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "train and val share ", folder,
            ": the dataset description must name their split files (\"split\") to write them"));
      }
    }
    std::mt19937_64 rng(o.seed);
    std::shuffle(ids.begin(), ids.end(), rng);
    const size_t n_val = std::max<size_t>(ids.size() > 1 ? 1 : 0,
                                          static_cast<size_t>(o.val_ratio * ids.size() + 0.5));
    std::vector<std::string> val(ids.begin(), ids.begin() + n_val);
    std::vector<std::string> train(ids.begin() + n_val, ids.end());
    std::sort(val.begin(), val.end());
    std::sort(train.begin(), train.end());
    for (size_t i : indices) {
      parts[i].ids = parts[i].split == "val" ? val : train;
      parts[i].write_list = true;
    }
    LOG(INFO) << folder << ": no split lists; " << train.size() << " images to train, "
              << val.size() << " to val (--val_ratio=" << o.val_ratio << ", --seed=" << o.seed
              << ")";
  }

  // Nothing is written (split lists included) when a split would be empty.
  for (const PartIds& p : parts) {
    if (!p.ids.empty()) continue;
    const std::string listed = absl::StrCat(o.src, "/", p.part->split_file);
    std::error_code ec;
    return absl::InvalidArgumentError(
        !p.part->split_file.empty() && fs::exists(listed, ec)
            ? absl::StrCat(listed, ": the split list of '", p.split, "' is empty")
            : absl::StrCat(o.src, "/", p.part->img_dir, ": no *", info.img_suffix,
                           " images for split '", p.split, "'"));
  }

  std::vector<Job> jobs;
  std::set<std::string> queued;  // "img_dir|id": an image shared by two parts is converted once
  for (const PartIds& p : parts) {
    const std::string src_images = absl::StrCat(o.src, "/", p.part->img_dir);
    const std::string src_masks = absl::StrCat(o.src, "/", p.part->ann_dir);
    // Masks without their image (in the folders of this part).
    ANN_ASSIGN_OR_RETURN(const std::set<std::string> mask_ids,
                         IdsIn(src_masks, info.seg_map_suffix, o.dst));
    const std::set<std::string> listed(p.ids.begin(), p.ids.end());
    ANN_ASSIGN_OR_RETURN(const std::set<std::string> image_ids,
                         IdsIn(src_images, info.img_suffix, o.dst));
    for (const std::string& id : mask_ids) {
      if (!image_ids.count(id) && queued.insert("mask|" + src_masks + "|" + id).second) {
        const std::string mask = absl::StrCat(src_masks, "/", id, info.seg_map_suffix);
        const std::string image = absl::StrCat(src_images, "/", id, info.img_suffix);
        jobs.push_back({"", [=]() -> absl::Status {
                          return absl::NotFoundError(
                              absl::StrCat(mask, ": mask without its image (", image, ")"));
                        }});
      }
    }
    for (const std::string& id : p.ids) {
      if (!queued.insert(p.part->img_dir + "|" + p.part->ann_dir + "|" + id).second) continue;
      const std::string image = absl::StrCat(src_images, "/", id, info.img_suffix);
      const std::string mask = absl::StrCat(src_masks, "/", id, info.seg_map_suffix);
      const std::string out_image =
          absl::StrCat(o.dst, "/", p.part->img_dir, "/", id, info.img_suffix);
      const std::string out_mask =
          absl::StrCat(o.dst, "/", p.part->ann_dir, "/", id, info.seg_map_suffix);
      const bool labels_optional = p.part->labels_optional;
      jobs.push_back({out_mask, [=, &info]() -> absl::Status {
                        std::error_code ec;
                        if (!fs::exists(image, ec)) {
                          return absl::NotFoundError(absl::StrCat(image, ": no such image"));
                        }
                        if (!fs::exists(mask, ec)) {
                          if (labels_optional) return MirrorFile(image, out_image);
                          return absl::NotFoundError(
                              absl::StrCat(image, ": image without its mask (", mask, ")"));
                        }
                        ANN_ASSIGN_OR_RETURN(cv::Mat pixels, ReadColorImage(image));
                        ANN_ASSIGN_OR_RETURN(cv::Mat raw, ReadLabelImage(mask));
                        if (raw.size() != pixels.size()) {
                          return absl::InvalidArgumentError(absl::StrCat(
                              mask, ": size ", raw.cols, "x", raw.rows,
                              " differs from its image's ", pixels.cols, "x", pixels.rows));
                        }
                        ANN_ASSIGN_OR_RETURN(cv::Mat stored, StoredLabels(raw, info, mask));
                        ANN_RETURN_IF_ERROR(MirrorFile(image, out_image));
                        return WriteImage(out_mask, stored);
                      }});
    }
  }
  JobReport report = RunJobs(jobs, o.workers, info.name);
  std::vector<std::pair<std::string, int64_t>> counts;
  for (const PartIds& p : parts) counts.emplace_back(p.split, static_cast<int64_t>(p.ids.size()));
  ANN_RETURN_IF_ERROR(FinishReport(info.name, counts, report));
  for (const PartIds& p : parts) {
    if (p.write_list) {
      ANN_RETURN_IF_ERROR(
          layout::WriteSplitList(absl::StrCat(o.dst, "/", p.part->split_file), p.ids));
    }
  }

  // Statistics, from the written tree through the reader training uses.
  std::vector<std::pair<std::string, SplitLabelStats>> stats;
  for (const auto& [split, its] : info.splits) {
    ANN_ASSIGN_OR_RETURN(std::vector<Sample> samples, ListSamples(info, o.dst, split));
    std::vector<Sample> labelled;
    for (const Sample& s : samples) {
      if (!s.label.empty()) labelled.push_back(s);
    }
    if (labelled.empty()) continue;
    ANN_ASSIGN_OR_RETURN(SplitLabelStats counted, CountLabels(labelled, info, o.workers));
    stats.emplace_back(split, counted);
  }
  std::printf("\n%s", FormatLabelStats(info, stats).c_str());
  const std::string json_path = absl::StrCat(o.dst, "/label_stats.json");
  ANN_RETURN_IF_ERROR(WriteJsonFile(json_path, LabelStatsJson(info, stats)));
  std::printf("label statistics: %s\n", json_path.c_str());
  std::fflush(stdout);

  // What users get wrong, said once each.
  for (const auto& [split, s] : stats) {
    if (split != "train") continue;
    for (size_t c = 0; c < info.class_names.size(); ++c) {
      if (s.pixels[c] == 0) {
        LOG(WARNING) << "class " << c << " '" << info.class_names[c]
                     << "' has no pixel in train: the model cannot learn it";
      }
    }
  }
  int64_t images = 0, with_zero = 0, only_binary = 0;
  for (const PartIds& p : parts) {
    for (const std::string& id : p.ids) {
      absl::StatusOr<cv::Mat> stored =
          ReadLabelImage(absl::StrCat(o.dst, "/", p.part->ann_dir, "/", id, info.seg_map_suffix));
      if (!stored.ok()) continue;
      ++images;
      with_zero += cv::countNonZero(*stored == 0) > 0;
      only_binary += cv::countNonZero((*stored != 0) & (*stored != 255)) == 0;
    }
  }
  if (info.reduce_zero_label && images > 0 && with_zero == 0) {
    LOG(WARNING) << "reduce_zero_label is set but no mask holds 0: every stored value v is read "
                    "as class v - 1; if 0.."
                 << info.class_names.size() - 1 << " are already the classes, unset it";
  }
  if (!info.reduce_zero_label && info.class_names.size() == 2 && images > 0 &&
      only_binary == images && info.ignore_index == 255) {
    LOG(WARNING) << "the masks hold only 0 and 255, and 255 is the ignore index: class 1 '"
                 << info.class_names[1]
                 << "' is never seen; if 255 marks it, store it as 1 (or set ignore_index)";
  }
  return absl::OkStatus();
}

}  // namespace ann
