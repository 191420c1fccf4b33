// Analytic FLOP counting (the README's ann_efficiency section): the model's inference graph
// (ann/inference/model_graph.h) read with shapes, no tensors computed. fvcore / mmengine
// convention, 1 multiply-add = 1 FLOP:
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

#include "ann/inference/graph.h"
#include "ann/model/segmentor.h"

namespace ann {

// N * Cout * (Cin / groups) * kh * kw * Hout * Wout.
int64_t ConvFlops(int64_t n, int64_t cin, int64_t cout, int64_t groups, int64_t kh, int64_t kw,
                  int64_t hout, int64_t wout);
// prod(A) * B's last dimension.
int64_t MatmulFlops(const Shape& a, int64_t b_last);
// 2 per element (eval-mode BN).
int64_t BatchNormFlops(int64_t numel);
// 1 per input element.
int64_t AdaptivePoolFlops(int64_t input_numel);
// 4 per output element.
int64_t BilinearFlops(int64_t output_numel);
// The element count of `shape`.
int64_t Numel(const Shape& shape);

// The op kinds FLOPs are counted for (element-wise ops are not counted).
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

// FLOPs of one forward of `graph` with inputs of `inputs`' shapes, each node's under its name
// (an attention node's poolings and products under <name>.key_pool, .value_pool and .matmul, a
// resize's only when it changes the size); returns the graph's output shapes.
std::vector<Shape> CountGraph(const Graph& graph, const std::vector<Shape>& inputs,
                              FlopCounter& counter);
// Inference (Predict) of the model as mmseg defines it (BatchNorm counted, nothing fused):
// backbone, decode head, resize to the input; with `auxiliary` also the auxiliary head (a
// training-time cost). Returns the logits' shape.
Shape CountSegmentor(const EncoderDecoderImpl& model, const Shape& in, bool auxiliary,
                     FlopCounter& counter);

}  // namespace ann

#endif  // ANN_EFFICIENCY_FLOPS_H_
