#include "ann/train/train_config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "ann/util/cpu.h"
#include "ann/util/flags.h"
#include "ann/util/status_macros.h"
#include "gflags/gflags.h"

DEFINE_string(crop_size, "1024x512", "Training crop WIDTHxHEIGHT.");
DEFINE_string(img_scale, "2048x1024", "Base scale WIDTHxHEIGHT before the random ratio.");
DEFINE_string(ratio_range, "0.5,2.0", "Random resize ratio range LO,HI.");
DEFINE_double(cat_max_ratio, 0.75, "RandomCrop: max share of one class in a crop (1 = off).");
DEFINE_double(flip_prob, 0.5, "Horizontal flip probability.");
DEFINE_bool(photometric, true, "mmseg's PhotoMetricDistortion.");
DEFINE_int32(batch_size, 8, "Images per iteration (per process).");
DEFINE_int64(max_iters, 40000, "Training iterations.");
DEFINE_double(lr, 0.01, "Base learning rate.");
DEFINE_double(min_lr, 1e-4, "Poly schedule floor.");
DEFINE_double(power, 0.9, "Poly schedule power.");
DEFINE_double(momentum, 0.9, "SGD momentum.");
DEFINE_double(weight_decay, 5e-4, "SGD weight decay.");
DEFINE_string(loss, "ce", "Main loss: ce (mmseg) or ohem (authors').");
DEFINE_string(class_weight, "",
              "Per-class loss weights: comma separated numbers, a file of them (in a config: "
              "relative to it), or auto (median frequency balancing over the train split's "
              "labels); empty: none.");
DEFINE_double(ohem_thresh, 0.7, "OHEM probability threshold.");
DEFINE_int64(ohem_min_kept, 100000, "OHEM minimum kept pixels.");
DEFINE_double(aux_weight, 0.4, "Auxiliary head loss weight.");
DEFINE_bool(loss_per_image, false,
            "Compute the losses per image and average them over the batch (the authors' per-GPU "
            "loss balancing: OHEM keeps --ohem_min_kept pixels of every image).");
DEFINE_bool(sync_bn, true,
            "With several processes: synchronised BatchNorm (statistics over every process's "
            "batch, mmseg's SyncBN), so N processes of --batch_size=b train like one of N*b.");
DEFINE_string(train_precision, "fp32",
              "Training arithmetic: fp32; bf16 (mixed precision: bfloat16 convolutions and "
              "matrix products, float32 weights and gradients; needs AVX512-BF16 or AMX); or fp64 "
              "(slow; for numerical checks, e.g. that N processes equal one process of N times "
              "the batch beyond float32 rounding).");
DEFINE_int64(checkpoint_interval, 4000, "Save a checkpoint every N iterations (and at the end).");
DEFINE_int64(eval_interval, 0, "Validate (mIoU) every N iterations; 0 = never.");
DEFINE_int64(log_interval, 50, "Log every N iterations.");
DEFINE_string(save_best, "",
              "Keep the checkpoint of the best validation as best_<metric>_iter_N.pth: mIoU, "
              "mAcc or aAcc (empty: none).");
DEFINE_int64(early_stop_patience, 0,
             "End the run after this many validations without improvement of --save_best's "
             "metric (mIoU if unset); 0 = never.");
DEFINE_uint64(seed, 0, "Seed of weights, sampling and augmentation.");

namespace ann {

absl::StatusOr<TrainConfig> TrainConfigFromFlags(const ModelConfig& model) {
  TrainConfig c;
  c.pipeline.variant = model.variant;
  ANN_ASSIGN_OR_RETURN(c.pipeline.crop, ParseSizeFlag("crop_size", FLAGS_crop_size));
  ANN_ASSIGN_OR_RETURN(c.pipeline.scale, ParseSizeFlag("img_scale", FLAGS_img_scale));
  ANN_ASSIGN_OR_RETURN(std::vector<double> ratio,
                       ParseNumberListFlag("ratio_range", FLAGS_ratio_range, 2, 2));
  c.pipeline.ratio_lo = ratio[0];
  c.pipeline.ratio_hi = ratio[1];
  if (!(c.pipeline.ratio_lo >= kMinRatio) || !(c.pipeline.ratio_hi <= kMaxRatio) ||
      c.pipeline.ratio_hi < c.pipeline.ratio_lo) {
    return absl::InvalidArgumentError(absl::StrCat("--ratio_range: expected LO,HI with ", kMinRatio,
                                                   " <= LO <= HI <= ", kMaxRatio, ", got '",
                                                   FLAGS_ratio_range, "'"));
  }
  // Output stride 8: a smaller crop leaves the attention blocks one or two positions.
  if (c.pipeline.crop.width < 16 || c.pipeline.crop.height < 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("--crop_size: must be at least 16x16, got ", FLAGS_crop_size));
  }
  if (std::min(c.pipeline.scale.width, c.pipeline.scale.height) * c.pipeline.ratio_lo < 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("--img_scale: ", FLAGS_img_scale, " at ratio ", c.pipeline.ratio_lo,
                     " (--ratio_range) rescales images below 16 pixels"));
  }
  if (!(FLAGS_cat_max_ratio > 0 && FLAGS_cat_max_ratio <= 1)) {
    return absl::InvalidArgumentError("--cat_max_ratio: must be in (0, 1]");
  }
  c.pipeline.cat_max_ratio = FLAGS_cat_max_ratio;
  if (!(FLAGS_flip_prob >= 0 && FLAGS_flip_prob <= 1)) {
    return absl::InvalidArgumentError("--flip_prob: must be in [0, 1]");
  }
  c.pipeline.flip_prob = FLAGS_flip_prob;
  c.pipeline.photometric = FLAGS_photometric;
  if (FLAGS_batch_size < 1) return absl::InvalidArgumentError("--batch_size: must be >= 1");
  c.batch_size = FLAGS_batch_size;
  if (FLAGS_max_iters < 1) return absl::InvalidArgumentError("--max_iters: must be >= 1");
  c.max_iters = FLAGS_max_iters;
  if (!(FLAGS_lr > 0) || !std::isfinite(FLAGS_lr)) {
    return absl::InvalidArgumentError("--lr: must be a positive number");
  }
  c.lr = FLAGS_lr;
  if (!(FLAGS_min_lr >= 0) || FLAGS_min_lr > FLAGS_lr) {
    return absl::InvalidArgumentError("--min_lr: must be in [0, lr]");
  }
  c.min_lr = FLAGS_min_lr;
  if (!(FLAGS_power > 0)) return absl::InvalidArgumentError("--power: must be positive");
  c.power = FLAGS_power;
  if (!(FLAGS_momentum >= 0 && FLAGS_momentum < 1)) {
    return absl::InvalidArgumentError("--momentum: must be in [0, 1)");
  }
  c.momentum = FLAGS_momentum;
  if (!(FLAGS_weight_decay >= 0)) return absl::InvalidArgumentError("--weight_decay: must be >= 0");
  c.weight_decay = FLAGS_weight_decay;
  ANN_ASSIGN_OR_RETURN(
      c.loss, ParseEnumFlag<TrainConfig::Loss>(
                  "loss", FLAGS_loss,
                  {{"ce", TrainConfig::Loss::kCrossEntropy}, {"ohem", TrainConfig::Loss::kOhem}}));
  std::string weight_text = FLAGS_class_weight;
  std::error_code ec;
  if (weight_text == "auto") {
    c.class_weight_auto = true;
    weight_text.clear();
  } else if (!weight_text.empty() && std::filesystem::is_regular_file(weight_text, ec)) {
    std::ifstream in(weight_text);
    std::stringstream text;
    text << in.rdbuf();
    weight_text =
        absl::StrReplaceAll(text.str(), {{"\n", ","}, {"\r", ""}, {" ", ","}, {"\t", ","}});
    weight_text = absl::StrJoin(absl::StrSplit(weight_text, ',', absl::SkipEmpty()), ",");
    if (weight_text.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--class_weight: ", FLAGS_class_weight, " holds no numbers"));
    }
  }
  ANN_ASSIGN_OR_RETURN(std::vector<double> weights,
                       ParseNumberListFlag("class_weight", weight_text, 0));
  for (double w : weights) {
    if (!(w >= 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--class_weight: ", w, " is not a non-negative number"));
    }
    c.class_weight.push_back(static_cast<float>(w));
  }
  if (!c.class_weight.empty() && static_cast<int64_t>(c.class_weight.size()) != model.num_classes) {
    return absl::InvalidArgumentError(absl::StrCat("--class_weight: ", c.class_weight.size(),
                                                   " weights for ", model.num_classes, " classes"));
  }
  if (!(FLAGS_ohem_thresh > 0 && FLAGS_ohem_thresh <= 1)) {
    return absl::InvalidArgumentError("--ohem_thresh: must be in (0, 1]");
  }
  c.ohem_thresh = FLAGS_ohem_thresh;
  if (FLAGS_ohem_min_kept < 0) return absl::InvalidArgumentError("--ohem_min_kept: must be >= 0");
  c.ohem_min_kept = FLAGS_ohem_min_kept;
  if (!(FLAGS_aux_weight >= 0)) return absl::InvalidArgumentError("--aux_weight: must be >= 0");
  c.aux_weight = FLAGS_aux_weight;
  c.loss_per_image = FLAGS_loss_per_image;
  c.sync_bn = FLAGS_sync_bn;
  ANN_ASSIGN_OR_RETURN(
      c.precision,
      ParseEnumFlag<Precision>(
          "train_precision", FLAGS_train_precision,
          {{"fp32", Precision::kFp32}, {"bf16", Precision::kBf16}, {"fp64", Precision::kFp64}}));
  if (c.precision == Precision::kBf16) {
    ANN_RETURN_IF_ERROR(CheckBf16Flag("train_precision"));
  }
  if (FLAGS_checkpoint_interval < 1) {
    return absl::InvalidArgumentError("--checkpoint_interval: must be >= 1");
  }
  c.checkpoint_interval = FLAGS_checkpoint_interval;
  if (FLAGS_eval_interval < 0) return absl::InvalidArgumentError("--eval_interval: must be >= 0");
  c.eval_interval = FLAGS_eval_interval;
  if (FLAGS_log_interval < 1) return absl::InvalidArgumentError("--log_interval: must be >= 1");
  c.log_interval = FLAGS_log_interval;
  if (!FLAGS_save_best.empty()) {
    ANN_ASSIGN_OR_RETURN(c.save_best, ParseEnumFlag<std::string>(
                                          "save_best", FLAGS_save_best,
                                          {{"mIoU", "mIoU"}, {"mAcc", "mAcc"}, {"aAcc", "aAcc"}}));
  }
  if (FLAGS_early_stop_patience < 0) {
    return absl::InvalidArgumentError("--early_stop_patience: must be >= 0");
  }
  c.early_stop_patience = FLAGS_early_stop_patience;
  if ((!c.save_best.empty() || c.early_stop_patience > 0) && c.eval_interval == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(c.save_best.empty() ? "--early_stop_patience" : "--save_best",
                     ": needs validation during training (--eval_interval=N)"));
  }
  c.seed = FLAGS_seed;
  return c;
}

}  // namespace ann
