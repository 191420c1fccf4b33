// The float32 / bfloat16 inference form: a graph after the inference rewrites (InferenceGraph)
// run through oneDNN directly. Each convolution is a DnnlConv (weights reordered once per input
// size; ReLU and the residual sum as post-ops, the sum written into the residual's memory), a
// composed convolution one DnnlConv per input and per 512 channels accumulated in float32 (the
// sum post-op; oneDNN 2.6 runs those faster than one wide conv) with its border bias added after;
// activations are channels-last in the precision's dtype, the attention's softmax and the logits
// in float32. The classifier and the resize run through LibTorch.
//
//   DnnlExecutor executor(InferenceGraph(*model), Precision::kFp32);
//   torch::Tensor logits = executor.Predict(images);  // as EncoderDecoder::Predict
#ifndef ANN_INFERENCE_DNNL_EXECUTOR_H_
#define ANN_INFERENCE_DNNL_EXECUTOR_H_

#include <memory>
#include <vector>

#include "ann/inference/graph.h"
#include "ann/util/precision.h"
#include "torch/torch.h"

namespace ann {

class DnnlExecutor {
 public:
  // `precision`: kFp32 or kBf16 (check CpuHasBf16() first). Converts the graph's weights once;
  // the graph's own tensors are left as they are.
  DnnlExecutor(Graph graph, Precision precision);
  ~DnnlExecutor();

  // Logits [N, K, H, W] float32 of normalised images [N, 3, H, W], at their size. Safe to call
  // from several threads.
  torch::Tensor Predict(const torch::Tensor& images) const;

 private:
  struct Step;
  Graph graph_;
  torch::ScalarType dtype_;
  std::vector<Step> steps_;  // per node
  std::vector<int> last_use_;
};

}  // namespace ann

#endif  // ANN_INFERENCE_DNNL_EXECUTOR_H_
