#include "ann/data/data_config.h"

#include <array>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ann/data/dataset_file.h"
#include "ann/util/flags.h"
#include "ann/util/status_macros.h"
#include "gflags/gflags.h"

DEFINE_string(dataset, "cityscapes",
              "Dataset: cityscapes, ade20k, voc_aug, pascal_context, or custom (--dataset_file).");
DEFINE_string(dataset_file, "",
              "With --dataset=custom: the dataset's description (JSON with mmseg's CustomDataset "
              "fields; see ann/data/dataset_file.h). In a config, relative to the config.");
DEFINE_string(data_root, "", "Root of the preprocessed dataset (ann_preprocess --dst).");
DEFINE_string(train_split, "train",
              "Training split(s), comma separated and concatenated (e.g. train,val for the "
              "test-server model).");
DEFINE_string(val_split, "val", "Split validated during training (--eval_interval).");
DEFINE_int32(workers, 2, "Data loading / image decoding threads.");
DEFINE_string(mean, "default", "Per-channel mean, comma separated, or default (the variant's).");
DEFINE_string(std, "default", "Per-channel std, comma separated, or default (the variant's).");
DEFINE_string(to_rgb, "default",
              "Convert BGR input to RGB before normalising: true/false/default.");

namespace ann {
namespace {

// Three comma-separated numbers, or default (the variant's value).
absl::StatusOr<std::array<double, 3>> ParseTriple(absl::string_view flag, absl::string_view text,
                                                  const std::array<double, 3>& default_value) {
  if (text == "default") return default_value;
  ANN_ASSIGN_OR_RETURN(std::vector<double> values, ParseNumberListFlag(flag, text, 3, 3));
  return std::array<double, 3>{values[0], values[1], values[2]};
}

// `variant`'s normalisation with --mean, --std and --to_rgb applied.
absl::StatusOr<NormalizeParams> NormalizeParamsFromFlags(Variant variant) {
  NormalizeParams params = DefaultNormalizeParams(variant);
  ANN_ASSIGN_OR_RETURN(params.to_rgb, ParseTriStateFlag("to_rgb", FLAGS_to_rgb, params.to_rgb));
  ANN_ASSIGN_OR_RETURN(params.mean, ParseTriple("mean", FLAGS_mean, params.mean));
  ANN_ASSIGN_OR_RETURN(params.std, ParseTriple("std", FLAGS_std, params.std));
  for (double s : params.std) {
    if (!(s > 0)) return absl::InvalidArgumentError("--std: values must be positive");
  }
  return params;
}

}  // namespace

absl::StatusOr<DataConfig> DataConfigFromFlags(Variant variant) {
  DataConfig c;
  ANN_ASSIGN_OR_RETURN(c.kind, ParseDatasetKind(FLAGS_dataset));
  if (c.kind == DatasetKind::kCustom) {
    if (FLAGS_dataset_file.empty()) {
      return absl::InvalidArgumentError("--dataset_file: --dataset=custom needs its description");
    }
    ANN_ASSIGN_OR_RETURN(c.info, ReadDatasetFile(FLAGS_dataset_file));
  } else if (!FLAGS_dataset_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--dataset_file: only with --dataset=custom (not ", FLAGS_dataset, ")"));
  } else {
    c.info = GetDatasetInfo(c.kind);
  }
  c.dataset = FLAGS_dataset;
  c.data_root = FLAGS_data_root;
  c.train_splits.clear();
  for (absl::string_view part : absl::StrSplit(FLAGS_train_split, ',', absl::SkipWhitespace())) {
    for (const std::string& seen : c.train_splits) {
      if (seen == part) {
        return absl::InvalidArgumentError(
            absl::StrCat("--train_split: '", part, "' is listed twice"));
      }
    }
    ANN_ASSIGN_OR_RETURN(std::string split, ParseSplitFlag("train_split", std::string(part)));
    c.train_splits.push_back(split);
  }
  if (c.train_splits.empty()) return absl::InvalidArgumentError("--train_split: no split given");
  if (FLAGS_val_split.empty()) return absl::InvalidArgumentError("--val_split: no split given");
  ANN_ASSIGN_OR_RETURN(c.val_split, ParseSplitFlag("val_split", FLAGS_val_split));
  if (FLAGS_workers < 1) return absl::InvalidArgumentError("--workers: must be >= 1");
  c.workers = FLAGS_workers;
  ANN_ASSIGN_OR_RETURN(c.normalize, NormalizeParamsFromFlags(variant));
  return c;
}

}  // namespace ann
