#include "ann/model/segmentor.h"

#include <unordered_set>

namespace ann {

EncoderDecoderImpl::EncoderDecoderImpl(const ModelConfig& config) : config_(config) {
  backbone = register_module("backbone", ResNetV1c(ResNetV1cOptions(config.depth)
                                                       .stem_channels(config.stem_channels())
                                                       .stem_ceil_mode(config.stem_ceil_mode())));
  decode_head = register_module("decode_head", ANNHead(config));
  if (config.with_auxiliary_head) {
    auxiliary_head = register_module("auxiliary_head", FCNHead(config));
  }
}

SegmentorOutputs EncoderDecoderImpl::forward(const torch::Tensor& images) {
  std::vector<torch::Tensor> features = backbone->forward(images);
  SegmentorOutputs out;
  out.decode = decode_head->forward(features);
  if (auxiliary_head && is_training()) out.auxiliary = auxiliary_head->forward(features);
  return out;
}

torch::Tensor EncoderDecoderImpl::Predict(const torch::Tensor& images) {
  // In the weights' dtype: float64 when trained so.
  const torch::Tensor x = images.to(decode_head->conv_seg->weight.scalar_type());
  torch::Tensor logits = decode_head->forward(backbone->forward(x)).to(torch::kFloat).contiguous();
  return ResizeLogits(logits, images.size(2), images.size(3), config_.align_corners);
}

void EncoderDecoderImpl::InitWeights() {
  torch::NoGradGuard no_grad;
  for (auto& module : backbone->modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2dImpl>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = module->as<SyncBatchNormImpl>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    }
  }
  decode_head->InitClassifier();
  if (auxiliary_head) auxiliary_head->InitClassifier();
  for (auto* block : {decode_head->fusion->stages[0]->as<SelfAttentionBlockImpl>(),
                      decode_head->context->stages[0]->as<SelfAttentionBlockImpl>()}) {
    torch::nn::init::zeros_(block->out_project->weight);
    torch::nn::init::zeros_(block->out_project->bias);
  }
}

torch::Tensor ResizeLogits(const torch::Tensor& logits, int64_t height, int64_t width,
                           bool align_corners) {
  if (logits.size(2) == height && logits.size(3) == width) return logits;
  return torch::nn::functional::interpolate(logits, torch::nn::functional::InterpolateFuncOptions()
                                                        .size(std::vector<int64_t>{height, width})
                                                        .mode(torch::kBilinear)
                                                        .align_corners(align_corners));
}

int64_t CountParameters(const torch::nn::Module& module) {
  std::unordered_set<const void*> seen;
  int64_t total = 0;
  for (const auto& p : module.parameters()) {
    if (seen.insert(p.unsafeGetTensorImpl()).second) total += p.numel();
  }
  return total;
}

}  // namespace ann
