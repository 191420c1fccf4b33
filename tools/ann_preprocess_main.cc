// ann_preprocess: raw dataset downloads → the training layout (see datasets/*.h), or a generated
// toy Cityscapes tree.
//
#include <string>
#include <thread>

#include "ann/config/config_flags.h"
#include "ann/util/flags.h"
#include "ann/util/status_macros.h"
#include "datasets/datasets.h"
#include "gflags/gflags.h"

DEFINE_string(dataset, "",
              "cityscapes | ade20k | voc_aug | pascal_context | custom | toy_cityscapes | "
              "toy_custom");
DEFINE_string(dataset_file, "", "custom: the dataset description (JSON, ann/data/dataset_file.h)");
DEFINE_double(val_ratio, 0.2,
              "custom: share of images for val where --src has no split lists (seeded by --seed)");
DEFINE_string(src, "",
              "Raw dataset root (the directory holding leftImg8bit/ & gtFine/, "
              "ADEChallengeData2016/, VOCdevkit/ (+ benchmark_RELEASE/), or VOCdevkit/VOC2010)");
DEFINE_string(dst, "", "Output root; may equal --src to convert in place");
DEFINE_int32(workers, 0, "Parallel workers (0: one per core)");
DEFINE_string(sbd_dir, "", "voc_aug: SBD's benchmark_RELEASE/dataset (default: under --src)");
DEFINE_string(detail_json, "",
              "pascal_context: the Detail trainval_merged.json (default: under --src)");
DEFINE_uint64(seed, 0, "toy_*: generator seed; custom: the train/val split's seed");
DEFINE_string(toy_size, "256x128", "toy_*: image WIDTHxHEIGHT");
DEFINE_string(toy_splits, "48,12,6",
              "toy_*: train,val,test image counts (toy_custom: their sum, in one folder)");

namespace ann {
namespace {

const ToolInfo kTool = {
    "ann_preprocess",
    "converts a raw dataset download into the training layout, or generates a toy Cityscapes",
    "--dataset=cityscapes|ade20k|voc_aug|pascal_context --src=RAW --dst=OUT [--workers=N] | "
    "--dataset=custom --dataset_file=JSON --src=RAW --dst=OUT [--val_ratio=0.2 --seed=N] | "
    "--dataset=toy_cityscapes|toy_custom --dst=RAW [--seed=N --toy_size=WxH --toy_splits=T,V,T]",
    "ann_preprocess --dataset=cityscapes --src=/data/cityscapes_raw --dst=data/cityscapes"};

absl::Status Run() {
  if (FLAGS_dataset.empty()) return absl::InvalidArgumentError("--dataset is required");
  if (FLAGS_workers < 0) return absl::InvalidArgumentError("--workers: must be >= 0");
  PreprocessOptions o;
  o.src = FLAGS_src;
  o.dst = FLAGS_dst;
  o.workers = FLAGS_workers > 0
                  ? FLAGS_workers
                  : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  o.sbd_dir = FLAGS_sbd_dir;
  o.json = FLAGS_detail_json;
  o.seed = FLAGS_seed;
  o.dataset_file = FLAGS_dataset_file;
  o.val_ratio = FLAGS_val_ratio;
  ANN_ASSIGN_OR_RETURN(cv::Size size, ParseSizeFlag("toy_size", FLAGS_toy_size));
  o.toy_width = size.width;
  o.toy_height = size.height;
  ANN_ASSIGN_OR_RETURN(std::vector<int64_t> splits,
                       ParseIntListFlag("toy_splits", FLAGS_toy_splits, 3, 3, /*min_value=*/0));
  if (splits[0] < 1 || splits[1] < 1) {
    return absl::InvalidArgumentError("--toy_splits: train and val need at least one image");
  }
  o.toy_train = static_cast<int>(splits[0]);
  o.toy_val = static_cast<int>(splits[1]);
  o.toy_test = static_cast<int>(splits[2]);
  return Preprocess(FLAGS_dataset, o);
}

}  // namespace
}  // namespace ann

// A whole config may be given (--config): the model, training and test flags are skipped.
int main(int argc, char** argv) {
  ann::ToolInfo tool = ann::kTool;
  tool.foreign_flags = ann::AllConfigFlags();
  return ann::RunTool(argc, argv, tool, ann::Run);
}
