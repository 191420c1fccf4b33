// ann_preprocess: raw dataset downloads → the training layout (see datasets/*.h), or a generated
// toy Cityscapes tree.
//
//   ann_preprocess --dataset=cityscapes --src=/data/cityscapes_raw --dst=data/cityscapes
//   ann_preprocess --dataset=toy_cityscapes --dst=data/toy_raw --seed=0
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "ann/util/flags.h"
#include "datasets/datasets.h"
#include "gflags/gflags.h"

DEFINE_string(dataset, "", "cityscapes | ade20k | voc_aug | pascal_context | toy_cityscapes");
DEFINE_string(src, "", "Raw dataset root (the directory holding leftImg8bit/ & gtFine/, "
              "ADEChallengeData2016/, VOCdevkit/ (+ benchmark_RELEASE/), or VOCdevkit/VOC2010)");
DEFINE_string(dst, "", "Output root; may equal --src to convert in place");
DEFINE_int32(workers, 0, "Parallel workers (0: one per core)");
DEFINE_string(sbd_dir, "", "voc_aug: SBD's benchmark_RELEASE/dataset (default: under --src)");
DEFINE_string(json, "", "pascal_context: trainval_merged.json (default: under --src)");
DEFINE_uint64(seed, 0, "toy_cityscapes: generator seed");
DEFINE_string(toy_size, "256x128", "toy_cityscapes: image WIDTHxHEIGHT");
DEFINE_string(toy_splits, "48,12,6", "toy_cityscapes: train,val,test image counts");

namespace {

absl::Status Run() {
  ann::PreprocessOptions o;
  o.src = FLAGS_src;
  o.dst = FLAGS_dst;
  o.workers = FLAGS_workers > 0 ? FLAGS_workers
                                : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  o.sbd_dir = FLAGS_sbd_dir;
  o.json = FLAGS_json;
  o.seed = FLAGS_seed;
  std::vector<std::string> size = absl::StrSplit(FLAGS_toy_size, 'x');
  if (size.size() != 2 || !absl::SimpleAtoi(size[0], &o.toy_width) ||
      !absl::SimpleAtoi(size[1], &o.toy_height)) {
    return absl::InvalidArgumentError("--toy_size: expected WIDTHxHEIGHT, e.g. 256x128");
  }
  std::vector<std::string> splits = absl::StrSplit(FLAGS_toy_splits, ',');
  if (splits.size() != 3 || !absl::SimpleAtoi(splits[0], &o.toy_train) ||
      !absl::SimpleAtoi(splits[1], &o.toy_val) || !absl::SimpleAtoi(splits[2], &o.toy_test) ||
      o.toy_train < 1 || o.toy_val < 1 || o.toy_test < 0) {
    return absl::InvalidArgumentError("--toy_splits: expected TRAIN,VAL,TEST counts, e.g. 48,12,6");
  }
  if (FLAGS_dataset.empty()) return absl::InvalidArgumentError("--dataset is required");
  return ann::Preprocess(FLAGS_dataset, o);
}

}  // namespace

int main(int argc, char** argv) {
  ann::ParseCommandLine(&argc, &argv,
                        "Converts a raw dataset download into the training layout.\n"
                        "  ann_preprocess --dataset=cityscapes --src=RAW --dst=OUT");
  return ann::ExitCode(Run());
}
