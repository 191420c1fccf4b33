#include "ann/data/dataset_file.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ann/util/json.h"
#include "ann/util/status_macros.h"

namespace ann {
namespace {

class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {}

  absl::Status Error(const std::string& field, const std::string& problem) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", field, ": ", problem));
  }

  // Fails on a key outside `known` (a misspelt field).
  absl::Status OnlyKnown(const Json& object, const std::string& where,
                         const std::set<std::string>& known) const {
    for (const auto& [key, value] : object.items()) {
      if (!known.count(key)) {
        return Error(
            where.empty() ? key : absl::StrCat(where, ".", key),
            absl::StrCat("unknown field (expected one of ", absl::StrJoin(known, ", "), ")"));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> String(const Json& object, const std::string& key,
                                     const std::string& where, const std::string& fallback) const {
    if (!object.contains(key)) return fallback;
    if (!object[key].is_string()) return Error(where + key, "must be a string");
    return object[key].get<std::string>();
  }

 private:
  std::string path_;
};

}  // namespace

absl::StatusOr<DatasetInfo> ParseDatasetDescription(const std::string& text,
                                                    const std::string& path) {
  Reader r(path);
  std::optional<Json> parsed = ParseJson(text);
  if (!parsed || !parsed->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not a JSON object (a dataset description, see ann/data/dataset_file.h)"));
  }
  const Json& j = *parsed;
  ANN_RETURN_IF_ERROR(r.OnlyKnown(
      j, "",
      {"name", "classes", "palette", "img_dir", "ann_dir", "img_suffix", "seg_map_suffix",
       "instance_suffix", "reduce_zero_label", "ignore_index", "train", "val", "test"}));
  DatasetInfo info;
  info.kind = DatasetKind::kCustom;
  ANN_ASSIGN_OR_RETURN(info.name, r.String(j, "name", "", std::filesystem::path(path).stem()));
  if (!j.contains("classes") || !j["classes"].is_array() || j["classes"].empty()) {
    return r.Error("classes", "a list of class names is required");
  }
  std::set<std::string> seen;
  for (const Json& c : j["classes"]) {
    if (!c.is_string() || c.get<std::string>().empty()) {
      return r.Error("classes", "every class name must be a non-empty string");
    }
    if (!seen.insert(c.get<std::string>()).second) {
      return r.Error("classes", absl::StrCat("'", c.get<std::string>(), "' is listed twice"));
    }
    info.class_names.push_back(c.get<std::string>());
  }
  const int k = static_cast<int>(info.class_names.size());
  if (j.contains("reduce_zero_label")) {
    if (!j["reduce_zero_label"].is_boolean())
      return r.Error("reduce_zero_label", "must be true or false");
    info.reduce_zero_label = j["reduce_zero_label"].get<bool>();
  }
  if (j.contains("ignore_index")) {
    if (!j["ignore_index"].is_number_integer() || j["ignore_index"].get<int>() < 0 ||
        j["ignore_index"].get<int>() > 255) {
      return r.Error("ignore_index", "must be an integer in 0..255 (labels are 8-bit)");
    }
    info.ignore_index = j["ignore_index"].get<int>();
  }
  // Stored labels are 8-bit; the classes and the ignore value must fit and not meet.
  if (info.max_stored_label() >= 255 || info.max_stored_label() >= info.ignore_index) {
    return r.Error("classes", absl::StrCat(k, " classes",
                                           info.reduce_zero_label ? " (stored 1.." : " (stored 0..",
                                           info.max_stored_label(),
                                           ") do not fit below ignore_index ", info.ignore_index));
  }
  if (info.reduce_zero_label && info.ignore_index != 255) {
    // mmseg reduces first and then compares the *reduced* labels with ignore_index: stored
    // ignore_index + 1 would be ignored, while stored 0 (reduced to 255) and stored ignore_index
    // would be counted as no class against every prediction. Never differ from it silently.
    return r.Error(
        "ignore_index",
        absl::StrCat(info.ignore_index,
                     " with reduce_zero_label: mmseg reduces the labels first (0 -> 255, "
                     "v -> v-1) and then ignores ",
                     info.ignore_index, " among the reduced values, so it would ignore stored ",
                     info.ignore_index + 1, " and count stored 0 and ", info.ignore_index,
                     " as no class against every prediction; store the pixels to ignore as 0 "
                     "and leave ignore_index out (255)"));
  }
  if (j.contains("palette")) {
    if (!j["palette"].is_array() || static_cast<int>(j["palette"].size()) != k) {
      return r.Error("palette", absl::StrCat("must list one [R, G, B] per class (", k, ")"));
    }
    for (const Json& c : j["palette"]) {
      if (!c.is_array() || c.size() != 3) return r.Error("palette", "each colour is [R, G, B]");
      Rgb rgb;
      for (int i = 0; i < 3; ++i) {
        if (!c[i].is_number_integer() || c[i].get<int>() < 0 || c[i].get<int>() > 255) {
          return r.Error("palette", "colour components are integers in 0..255");
        }
        rgb[i] = static_cast<uint8_t>(c[i].get<int>());
      }
      info.palette.push_back(rgb);
    }
    std::set<Rgb> colours(info.palette.begin(), info.palette.end());
    if (static_cast<int>(colours.size()) != k) {
      return r.Error("palette", "two classes share a colour (colour masks could not be read)");
    }
  } else {
    info.palette = PaletteFor(k);
  }
  ANN_ASSIGN_OR_RETURN(info.img_suffix, r.String(j, "img_suffix", "", ".jpg"));
  ANN_ASSIGN_OR_RETURN(info.seg_map_suffix, r.String(j, "seg_map_suffix", "", ".png"));
  if (info.img_suffix.empty() || info.seg_map_suffix.empty()) {
    return r.Error("img_suffix", "suffixes must not be empty");
  }
  ANN_ASSIGN_OR_RETURN(info.instance_suffix, r.String(j, "instance_suffix", "", ""));
  ANN_ASSIGN_OR_RETURN(const std::string img_dir, r.String(j, "img_dir", "", ""));
  ANN_ASSIGN_OR_RETURN(const std::string ann_dir, r.String(j, "ann_dir", "", ""));
  for (const char* split : {"train", "val", "test"}) {
    if (!j.contains(split)) continue;
    std::vector<Json> parts;
    if (j[split].is_array()) {
      parts.assign(j[split].begin(), j[split].end());
    } else {
      parts.push_back(j[split]);
    }
    std::vector<SplitPart> its;
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string where =
          j[split].is_array() ? absl::StrCat(split, "[", i, "].") : absl::StrCat(split, ".");
      if (!parts[i].is_object()) {
        return r.Error(split, "must be an object (img_dir, ann_dir, split) or a list of them");
      }
      ANN_RETURN_IF_ERROR(r.OnlyKnown(parts[i], where.substr(0, where.size() - 1),
                                      {"img_dir", "ann_dir", "split"}));
      SplitPart part;
      ANN_ASSIGN_OR_RETURN(part.img_dir, r.String(parts[i], "img_dir", where, img_dir));
      ANN_ASSIGN_OR_RETURN(part.ann_dir, r.String(parts[i], "ann_dir", where, ann_dir));
      ANN_ASSIGN_OR_RETURN(part.split_file, r.String(parts[i], "split", where, ""));
      if (part.img_dir.empty() || part.ann_dir.empty()) {
        return r.Error(where + "img_dir",
                       "img_dir and ann_dir are required (here or at the top level)");
      }
      part.labels_optional = std::string(split) == "test";
      its.push_back(part);
    }
    if (its.empty()) return r.Error(split, "has no part");
    info.splits.emplace_back(split, its);
  }
  if (info.splits.empty()) return r.Error("train", "no split described (train, val or test)");
  return info;
}

absl::StatusOr<DatasetInfo> ReadDatasetFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open dataset description"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseDatasetDescription(text.str(), path);
}

}  // namespace ann
