// int8 inference of the segmentor: post-training static quantization of the inference form
// (BatchNorm folded, the AFNB / APNB bottleneck fused with the attention's output projection,
// AFNB's composed into the head's 3x3 bottleneck where that saves work), executed through oneDNN
// directly (Int8Conv: AVX512-VNNI, AVX-VNNI or AMX-INT8 tiles):
//  - every convolution of the backbone and the head runs in int8, weights per output channel
//    (symmetric), activations per tensor (uint8, from calibration), ReLU fused into it;
//  - each residual block's sum and ReLU run inside its last convolution; the stem's max pooling
//    on uint8;
//  - kept in float: the attention (pyramid pooling, the key/query product, softmax, the value
//    product: they quantize badly and cost little; its key, query and value projections are
//    int8 convolutions with float outputs; in bfloat16, softmax in float32, where the CPU has
//    AVX512-BF16 or AMX), the composed bottleneck's border bias, the classifier and the
//    logits' resize.
//
//   Int8Segmentor engine(model);                 // the model becomes its inference form
//   for (x : calibration inputs) engine.Observe(x);
//   WriteCalibration(path, engine.calibration());
//   engine.Quantize(calibration, Observer::kMinMax);
//   torch::Tensor logits = engine.Predict(x);    // as EncoderDecoder::Predict
#ifndef ANN_QUANT_INT8_SEGMENTOR_H_
#define ANN_QUANT_INT8_SEGMENTOR_H_

#include <map>
#include <memory>
#include <string>

#include "ann/model/segmentor.h"
#include "ann/quant/calibration.h"
#include "torch/torch.h"

namespace ann {

class Int8Segmentor {
 public:
  // Turns `model` (loaded; shared, not copied) into its inference form for int8
  // (Precision::kInt8).
  explicit Int8Segmentor(EncoderDecoder model);
  ~Int8Segmentor();

  // The fp32 inference form's forward (as --precision=fp32), recording the range of every
  // tensor the int8 forward quantizes: one calibration image.
  torch::Tensor Observe(const torch::Tensor& input);
  // What Observe saw so far (checkpoint_sha256 left for the caller).
  const Calibration& calibration() const { return observed_; }

  // Prepares the int8 forward: weights quantized and packed, activation parameters from
  // `calibration` under `observer`. Throws (one line) if the calibration lacks a tensor.
  void Quantize(const Calibration& calibration, Observer observer);

  // Logits [N, K, H, W] float32 at the input's size, in int8 (after Quantize).
  torch::Tensor Predict(const torch::Tensor& input);

 private:
  class Walker;
  struct Int8State;  // activation parameters and packed weights
  EncoderDecoder model_;
  Calibration observed_;
  std::unique_ptr<Int8State> int8_;
};

}  // namespace ann

#endif  // ANN_QUANT_INT8_SEGMENTOR_H_
