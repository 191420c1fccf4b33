// Segmentation losses of both recipes (mmseg's losses/cross_entropy_loss.py and OHEMPixelSampler;
// the authors' OHEM). Logits are bilinearly resized to the label size first (align_corners as the
// model's), as mmseg's decode heads and torchcv do.
//  - mmseg CrossEntropyLoss (avg_non_ignore=False): w[y] * -log softmax, ignored pixels count
//    as 0, mean over all pixels of the batch.
//  - torchcv FSOhemCELoss: among labelled pixels sorted by true-class probability, keep those
//    below max(thresh, the probability at index min(min_kept, n - 1)); mean of their
//    (class-weighted) losses.
//  - torchcv's aux loss: PyTorch's weighted mean, sum(w[y] * l) / sum(w[y]) over labelled pixels.
// The authors trained 8 GPUs x 1 image and balanced the loss per GPU: with
// TrainConfig::loss_per_image both losses are computed per image and averaged over the batch, so
// OHEM keeps at least min_kept pixels of every image.
#ifndef ANN_TRAIN_LOSS_H_
#define ANN_TRAIN_LOSS_H_

#include <vector>

#include "ann/model/segmentor.h"
#include "ann/train/train_config.h"
#include "torch/torch.h"

namespace ann {

constexpr int64_t kIgnoreIndex = 255;

// Per-pixel w[y] * -log softmax(logits)[y], 0 at ignored pixels. logits [B,K,H,W], labels
// [B,H,W] int64; `weight` [K] or undefined.
torch::Tensor PixelCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                const torch::Tensor& weight);
// mmseg's CrossEntropyLoss: mean over all pixels, ignored ones counting as 0.
torch::Tensor MmsegCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                const torch::Tensor& weight);
// PyTorch's weighted mean: sum(w[y] l) / sum(w[y]) over labelled pixels.
torch::Tensor WeightedMeanCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                       const torch::Tensor& weight);
// torchcv's FSOhemCELoss (see the file comment).
torch::Tensor OhemCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                               const torch::Tensor& weight, double thresh, int64_t min_kept);

// Percentage of labelled pixels whose argmax is right (mmseg's acc_seg).
double PixelAccuracy(const torch::Tensor& logits, const torch::Tensor& labels);

// The loss of one step and the numbers mmseg logs.
struct LossTerms {
  torch::Tensor total;  // Differentiable: decode + aux_weight * aux.
  double decode = 0, aux = 0;
  double decode_acc = 0, aux_acc = 0;
};

// The recipe's total loss for both heads' outputs at feature resolution.
LossTerms SegmentationLoss(const SegmentorOutputs& outputs, const torch::Tensor& labels,
                           const TrainConfig& config, bool align_corners);

}  // namespace ann

#endif  // ANN_TRAIN_LOSS_H_
