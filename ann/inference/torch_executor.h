// Runs a Graph with LibTorch's own operators, node by node, in the weights' dtype: what the
// modules' forward computes, so that the graph of a loaded model (BuildModelGraph) gives
// EncoderDecoder::Predict's logits bit for bit. It is the reference the rewrites and the other
// backends are tested against, and runs any graph, before or after rewrites (a convolution of
// several inputs reads their concatenation).
//
//   Graph graph = BuildModelGraph(*model);
//   torch::Tensor logits = RunGraph(graph, {images})[0];
#ifndef ANN_INFERENCE_TORCH_EXECUTOR_H_
#define ANN_INFERENCE_TORCH_EXECUTOR_H_

#include <vector>

#include "ann/inference/graph.h"
#include "torch/torch.h"

namespace ann {

// The graph's outputs for `inputs` (one per kInput node, in order; converted to the dtype of the
// first convolution's weight, as Predict converts the image). Each value is released after its
// last reader.
std::vector<torch::Tensor> RunGraph(const Graph& graph, const std::vector<torch::Tensor>& inputs);

}  // namespace ann

#endif  // ANN_INFERENCE_TORCH_EXECUTOR_H_
