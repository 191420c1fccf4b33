// Analytic FLOP counting (spec §6): every module of ours walks its own structure with shapes,
// no tensors computed. fvcore / mmengine convention, 1 multiply-add = 1 FLOP:
//   conv = N·Cout·(Cin/groups)·kh·kw·Hout·Wout (bias not counted), matmul = prod(A)·B[-1],
//   BN (eval) = 2·numel, adaptive average pooling = input numel, bilinear upsampling =
//   4·output numel; element-wise ops (ReLU, add, softmax, scaling) and max pooling not counted.
// Unlike mmseg's counter, the attention matmuls are counted.
#ifndef ANN_EFFICIENCY_FLOPS_H_
#define ANN_EFFICIENCY_FLOPS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ann/model/non_local.h"
#include "ann/model/segmentor.h"
#include "ann/model/self_attention.h"
#include "torch/torch.h"

namespace ann {

using Shape = std::vector<int64_t>;

int64_t ConvFlops(int64_t n, int64_t cin, int64_t cout, int64_t groups, int64_t kh, int64_t kw,
                  int64_t hout, int64_t wout);
int64_t MatmulFlops(const Shape& a, int64_t b_last);
int64_t BatchNormFlops(int64_t numel);
int64_t AdaptivePoolFlops(int64_t input_numel);
int64_t BilinearFlops(int64_t output_numel);
int64_t Numel(const Shape& shape);

enum class OpKind { kConv, kMatmul, kBatchNorm, kPool, kUpsample };

// FLOPs per module path (in first-seen order) and per kind of op.
class FlopCounter {
 public:
  void Add(const std::string& module, OpKind kind, int64_t flops);
  int64_t total() const;
  int64_t total(OpKind kind) const { return by_kind_[static_cast<int>(kind)]; }
  const std::vector<std::pair<std::string, int64_t>>& entries() const { return entries_; }
  // Sums of the entries whose path starts with `prefix`.
  int64_t Sum(const std::string& prefix) const;

 private:
  std::vector<std::pair<std::string, int64_t>> entries_;
  int64_t by_kind_[5] = {0, 0, 0, 0, 0};
};

// Walkers: add the FLOPs of one forward of the module to `counter` under `name` and return the
// output shape.
Shape CountConv2d(const torch::nn::Conv2dImpl& conv, const Shape& in, const std::string& name,
                  FlopCounter& counter);
Shape CountSelfAttention(const SelfAttentionBlockImpl& block, const Shape& query, const Shape& key,
                         bool same_input, const std::string& name, FlopCounter& counter);
Shape CountNonLocal(const NonLocalBlockImpl& block, const Shape& in, const std::string& name,
                    FlopCounter& counter);
std::vector<Shape> CountResNet(const ResNetV1cImpl& resnet, const Shape& in,
                               const std::string& name, FlopCounter& counter);
// Inference (Predict): backbone, decode head, resize to the input; with `auxiliary` also the
// auxiliary head (a training-time cost).
Shape CountSegmentor(const EncoderDecoderImpl& model, const Shape& in, bool auxiliary,
                     FlopCounter& counter);

}  // namespace ann

#endif  // ANN_EFFICIENCY_FLOPS_H_
