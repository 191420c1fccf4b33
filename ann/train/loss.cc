#include "ann/train/loss.h"

namespace ann {

torch::Tensor PixelCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                const torch::Tensor& weight) {
  namespace F = torch::nn::functional;
  auto options = F::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex).reduction(torch::kNone);
  if (weight.defined()) options = options.weight(weight);
  return F::cross_entropy(logits, labels, options);
}

torch::Tensor MmsegCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                const torch::Tensor& weight) {
  return PixelCrossEntropy(logits, labels, weight).mean();
}

torch::Tensor WeightedMeanCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                       const torch::Tensor& weight) {
  namespace F = torch::nn::functional;
  auto options = F::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex).reduction(torch::kMean);
  if (weight.defined()) options = options.weight(weight);
  return F::cross_entropy(logits, labels, options);
}

torch::Tensor OhemCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                               const torch::Tensor& weight, double thresh, int64_t min_kept) {
  torch::Tensor prob;
  torch::Tensor flat_labels = labels.reshape({-1});
  const torch::Tensor valid = flat_labels != kIgnoreIndex;
  {
    torch::NoGradGuard no_grad;
    torch::Tensor target = labels.masked_fill(labels == kIgnoreIndex, 0);
    prob = torch::softmax(logits, 1).gather(1, target.unsqueeze(1)).reshape({-1});
  }
  torch::Tensor losses = PixelCrossEntropy(logits, labels, weight).reshape({-1});
  torch::Tensor valid_prob = prob.masked_select(valid);
  if (valid_prob.numel() == 0) return losses.sum() * 0;
  auto [sorted, order] = valid_prob.sort();
  const int64_t k = std::min<int64_t>(min_kept, sorted.numel() - 1);
  const double threshold = std::max(sorted[k].item<double>(), thresh);
  torch::Tensor sorted_losses = losses.masked_select(valid).index_select(0, order);
  torch::Tensor kept = sorted_losses.masked_select(sorted < threshold);
  return kept.mean();
}

double PixelAccuracy(const torch::Tensor& logits, const torch::Tensor& labels) {
  torch::NoGradGuard no_grad;
  const torch::Tensor valid = labels != kIgnoreIndex;
  const int64_t n = valid.sum().item<int64_t>();
  if (n == 0) return 0.0;
  // max(1)'s indices are argmax(1)'s (the first of tied maxima) at a seventh of the time on
  // [2, 19, 512, 512] here: LibTorch's argmax over a strided dimension is slow.
  const torch::Tensor predicted = std::get<1>(logits.max(1));
  const int64_t right = (predicted.eq(labels) & valid).sum().item<int64_t>();
  return 100.0 * right / n;
}

namespace {

// The recipe's loss of one head: over the whole batch (mmseg), or per image and averaged over the
// images (the authors' 8 GPUs of one image each, losses balanced across GPUs).
template <typename LossFn>
torch::Tensor BatchLoss(const torch::Tensor& logits, const torch::Tensor& labels, bool per_image,
                        const LossFn& loss) {
  if (!per_image || labels.size(0) == 1) return loss(logits, labels);
  std::vector<torch::Tensor> losses;
  for (int64_t b = 0; b < labels.size(0); ++b) {
    losses.push_back(loss(logits.narrow(0, b, 1), labels.narrow(0, b, 1)));
  }
  return torch::stack(losses).mean();
}

}  // namespace

LossTerms SegmentationLoss(const SegmentorOutputs& outputs, const torch::Tensor& labels,
                           const TrainConfig& config, bool align_corners) {
  const int64_t h = labels.size(1), w = labels.size(2);
  torch::Tensor weight;
  if (!config.class_weight.empty()) {
    weight = torch::tensor(config.class_weight, outputs.decode.scalar_type());
  }
  const bool ohem = config.loss == TrainConfig::Loss::kOhem;
  LossTerms terms;
  torch::Tensor decode = ResizeLogits(outputs.decode, h, w, align_corners);
  torch::Tensor decode_loss = BatchLoss(
      decode, labels, config.loss_per_image, [&](const torch::Tensor& x, const torch::Tensor& y) {
        return ohem ? OhemCrossEntropy(x, y, weight, config.ohem_thresh, config.ohem_min_kept)
                    : MmsegCrossEntropy(x, y, weight);
      });
  terms.total = decode_loss;
  terms.decode = decode_loss.item<double>();
  terms.decode_acc = PixelAccuracy(decode, labels);
  if (outputs.auxiliary.defined() && config.aux_weight > 0) {
    torch::Tensor aux = ResizeLogits(outputs.auxiliary, h, w, align_corners);
    // The authors' recipe uses PyTorch's weighted mean for the aux head; mmseg its own CE.
    torch::Tensor aux_loss = BatchLoss(
        aux, labels, config.loss_per_image, [&](const torch::Tensor& x, const torch::Tensor& y) {
          return ohem ? WeightedMeanCrossEntropy(x, y, weight) : MmsegCrossEntropy(x, y, weight);
        });
    terms.total = terms.total + config.aux_weight * aux_loss;
    terms.aux = aux_loss.item<double>();
    terms.aux_acc = PixelAccuracy(aux, labels);
  }
  return terms;
}

}  // namespace ann
