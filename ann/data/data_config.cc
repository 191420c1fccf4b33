#include "ann/data/data_config.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ann/data/dataset_file.h"
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

namespace ann {

absl::StatusOr<DataConfig> DataConfigFromFlags() {
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
  return c;
}

}  // namespace ann
