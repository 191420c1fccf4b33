// EncoderDecoder: the whole ANN segmentor (backbone + ANN decode head + optional auxiliary FCN
// head), named like mmseg's so its state_dict keys are `backbone.*`, `decode_head.*`,
// `auxiliary_head.*`. Whole-image inference returns logits resized to the input size. Its fast
// inference forms are graphs built from it (ann/inference/inference_form.h).
//
//   EncoderDecoder model(config);
//   model->eval();
//   torch::Tensor logits = model->Predict(NormalizeImage(image_bgr, config));  // ann/data
#ifndef ANN_MODEL_SEGMENTOR_H_
#define ANN_MODEL_SEGMENTOR_H_

#include <cstdint>

#include "ann/model/ann_head.h"
#include "ann/model/fcn_head.h"
#include "ann/model/model_config.h"
#include "ann/model/resnet.h"
#include "torch/torch.h"

namespace ann {

// The heads' logits at feature resolution (auxiliary undefined without the aux head).
struct SegmentorOutputs {
  torch::Tensor decode;     // [B, K, H/8, W/8]
  torch::Tensor auxiliary;  // [B, K, H/8, W/8]; undefined without an auxiliary head.
};

// mmseg's EncoderDecoder: backbone, decode head and auxiliary head under mmseg's names.
class EncoderDecoderImpl : public torch::nn::Module {
 public:
  explicit EncoderDecoderImpl(const ModelConfig& config);

  // Logits of both heads at the feature resolution (training).
  SegmentorOutputs forward(const torch::Tensor& images);

  // Decode-head logits bilinearly resized to the input's height and width (float32).
  torch::Tensor Predict(const torch::Tensor& images);

  // Initialisation for training from scratch: Kaiming convs in the backbone, BN = (1, 0),
  // classifiers N(0, 0.01), and zero attention out-projections (each block starts as a
  // pass-through of its concat input).
  void InitWeights();

  const ModelConfig& config() const { return config_; }

  ResNetV1c backbone{nullptr};
  ANNHead decode_head{nullptr};
  FCNHead auxiliary_head{nullptr};

 private:
  ModelConfig config_;
};
TORCH_MODULE(EncoderDecoder);

// Bilinear resize of [B, K, h, w] logits to `height` x `width`.
torch::Tensor ResizeLogits(const torch::Tensor& logits, int64_t height, int64_t width,
                           bool align_corners);

// Number of distinct parameters (shared tensors counted once) of `module`.
int64_t CountParameters(const torch::nn::Module& module);

}  // namespace ann

#endif  // ANN_MODEL_SEGMENTOR_H_
