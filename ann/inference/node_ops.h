// What every executor of the graph shares: the nodes it runs with LibTorch's own operators
// (ReLU, sum, max pooling, concatenation, the pyramid attention, the resize), and the
// bookkeeping that releases each value after its last reader.
#ifndef ANN_INFERENCE_NODE_OPS_H_
#define ANN_INFERENCE_NODE_OPS_H_

#include <vector>

#include "ann/inference/graph.h"
#include "torch/torch.h"

namespace ann {

// The index of the last node reading each value (as an input or a residual); the graph's
// outputs count as read at graph.size().
std::vector<int> LastUses(const Graph& graph);

// Releases the values node `index` read for the last time.
void ReleaseInputs(const Graph& graph, int index, const std::vector<int>& last_use,
                   std::vector<torch::Tensor>& values);

// Whether node `index` is the classifier: a convolution whose only reader is the resize.
bool IsClassifier(const Graph& graph, int index);

// Runs a ReLU, sum, max pooling, concatenation, attention or resize node on `values` (the
// attention's output channels-last when `channels_last`, the resize's in float32 from the
// contiguous layout: LibTorch's channels-last bilinear kernel is about 1.5x slower on the logits,
// 7.9 against 5.2 ms at 512x1024, Intel AMX, 2 threads). Throws for other kinds.
torch::Tensor RunLibTorchNode(const GraphNode& node, const std::vector<torch::Tensor>& values,
                              bool channels_last);

}  // namespace ann

#endif  // ANN_INFERENCE_NODE_OPS_H_
