// The standard non-local block the ANN paper compares against (the README's ann_efficiency
// section): key and query share one 1x1 ConvModule (in → channels, BN, ReLU), value is a 1x1 conv
// (in → channels), attention over all N = H·W positions (sim = softmax(q kᵀ / sqrt(channels)), N x
// N), and a 1x1 output conv (channels → out). The same layout as our SelfAttentionBlock without
// pyramid sampling, so the two differ only in what the paper changes.
#ifndef ANN_MODEL_NON_LOCAL_H_
#define ANN_MODEL_NON_LOCAL_H_

#include "ann/model/conv_module.h"
#include "torch/torch.h"

namespace ann {

// The standard non-local block of the paper's comparison (shared key/query, N x N attention).
class NonLocalBlockImpl : public torch::nn::Module {
 public:
  NonLocalBlockImpl(int64_t in_channels, int64_t channels, int64_t out_channels);
  // [B, in, H, W] → [B, out, H, W] (the context, without residual or concatenation).
  torch::Tensor forward(const torch::Tensor& x);

  ConvModule key_project{nullptr};  // Also the query projection.
  torch::nn::Conv2d value_project{nullptr};
  torch::nn::Conv2d out_project{nullptr};

  int64_t channels() const { return channels_; }

 private:
  int64_t channels_;
};
TORCH_MODULE(NonLocalBlock);

}  // namespace ann

#endif  // ANN_MODEL_NON_LOCAL_H_
