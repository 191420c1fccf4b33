#include "ann/data/label_stats.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ann/util/prefetch.h"
#include "ann/util/progress.h"

namespace ann {

absl::StatusOr<SplitLabelStats> CountLabels(const std::vector<Sample>& samples,
                                            const DatasetInfo& info, int workers) {
  const size_t k = info.class_names.size();
  SplitLabelStats stats;
  stats.pixels.assign(k, 0);
  stats.images_with.assign(k, 0);
  stats.pixels_of_images_with.assign(k, 0);
  // Per image: class histogram (index k: ignored), computed by the workers.
  Prefetch<absl::StatusOr<std::vector<int64_t>>> counted(
      samples.size(), workers, static_cast<size_t>(std::max(1, workers)) * 4,
      [&](size_t i) -> absl::StatusOr<std::vector<int64_t>> {
        absl::StatusOr<cv::Mat> label = LoadLabel(samples[i].label, info);
        if (!label.ok()) return label.status();
        std::vector<int64_t> histogram(k + 1, 0);
        for (int y = 0; y < label->rows; ++y) {
          const uint8_t* row = label->ptr<uint8_t>(y);
          for (int x = 0; x < label->cols; ++x) ++histogram[row[x] < k ? row[x] : k];
        }
        return histogram;
      });
  Progress progress("labels", static_cast<int64_t>(samples.size()),
                    std::max<int64_t>(1, static_cast<int64_t>(samples.size()) / 10));
  for (size_t i = 0; i < samples.size(); ++i) {
    absl::StatusOr<std::vector<int64_t>> histogram = counted.Next();
    if (!histogram.ok()) return histogram.status();
    ++stats.images;
    int64_t image_pixels = 0;
    for (int64_t n : *histogram) image_pixels += n;
    for (size_t c = 0; c < k; ++c) {
      stats.pixels[c] += (*histogram)[c];
      if ((*histogram)[c] > 0) {
        ++stats.images_with[c];
        stats.pixels_of_images_with[c] += image_pixels;
      }
    }
    stats.ignored_pixels += (*histogram)[k];
    stats.images_with_ignored += (*histogram)[k] > 0;
    progress.Advance(1);
  }
  progress.Finish();
  return stats;
}

std::string FormatLabelStats(const DatasetInfo& info,
                             const std::vector<std::pair<std::string, SplitLabelStats>>& splits) {
  size_t width = 9;  // "(ignored)"
  for (const std::string& name : info.class_names) width = std::max(width, name.size());
  std::string out = absl::StrFormat("%-*s", static_cast<int>(width), "class");
  for (const auto& [split, stats] : splits) {
    absl::StrAppendFormat(&out, " %14s %7s %7s", split + " pixels", "%", "images");
  }
  out += "\n";
  for (size_t c = 0; c < info.class_names.size(); ++c) {
    absl::StrAppendFormat(&out, "%-*s", static_cast<int>(width), info.class_names[c]);
    for (const auto& [split, stats] : splits) {
      int64_t total = stats.ignored_pixels;
      for (int64_t p : stats.pixels) total += p;
      absl::StrAppendFormat(&out, " %14d %6.2f%% %7d", stats.pixels[c],
                            total > 0 ? 100.0 * stats.pixels[c] / total : 0.0,
                            stats.images_with[c]);
    }
    out += "\n";
  }
  // Ignored pixels as a class row; then every pixel and image of the split.
  absl::StrAppendFormat(&out, "%-*s", static_cast<int>(width), "(ignored)");
  for (const auto& [split, stats] : splits) {
    int64_t total = stats.ignored_pixels;
    for (int64_t p : stats.pixels) total += p;
    absl::StrAppendFormat(&out, " %14d %6.2f%% %7d", stats.ignored_pixels,
                          total > 0 ? 100.0 * stats.ignored_pixels / total : 0.0,
                          stats.images_with_ignored);
  }
  out += "\n";
  absl::StrAppendFormat(&out, "%-*s", static_cast<int>(width), "(all)");
  for (const auto& [split, stats] : splits) {
    int64_t total = stats.ignored_pixels;
    for (int64_t p : stats.pixels) total += p;
    absl::StrAppendFormat(&out, " %14d %6.2f%% %7d", total, 100.0, stats.images);
  }
  out += "\n";
  return out;
}

Json LabelStatsJson(const DatasetInfo& info,
                    const std::vector<std::pair<std::string, SplitLabelStats>>& splits) {
  Json json = Json::object();
  json["dataset"] = info.name;
  json["classes"] = info.class_names;
  Json by_split = Json::object();
  for (const auto& [split, stats] : splits) {
    Json s = Json::object();
    s["images"] = stats.images;
    s["ignored_pixels"] = stats.ignored_pixels;
    s["images_with_ignored"] = stats.images_with_ignored;
    s["pixels"] = stats.pixels;
    s["images_with"] = stats.images_with;
    by_split[split] = s;
  }
  json["splits"] = by_split;
  return json;
}

std::vector<float> MedianFrequencyWeights(const SplitLabelStats& stats) {
  std::vector<double> freq;
  for (size_t c = 0; c < stats.pixels.size(); ++c) {
    if (stats.pixels[c] > 0) {
      freq.push_back(static_cast<double>(stats.pixels[c]) / stats.pixels_of_images_with[c]);
    }
  }
  std::vector<float> weights(stats.pixels.size(), 1.0f);
  if (freq.empty()) return weights;
  std::vector<double> sorted = freq;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  const double median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  size_t f = 0;
  for (size_t c = 0; c < stats.pixels.size(); ++c) {
    if (stats.pixels[c] > 0) weights[c] = static_cast<float>(median / freq[f++]);
  }
  return weights;
}

}  // namespace ann
