#include "ann/inference/node_ops.h"

#include "ann/model/segmentor.h"
#include "ann/model/self_attention.h"

namespace ann {

std::vector<int> LastUses(const Graph& graph) {
  std::vector<int> last_use(graph.size(), -1);
  for (int i = 0; i < graph.size(); ++i) {
    for (int input : graph.node(i).inputs) last_use[input] = i;
    if (graph.node(i).residual >= 0) last_use[graph.node(i).residual] = i;
  }
  for (int output : graph.outputs()) last_use[output] = graph.size();
  return last_use;
}

void ReleaseInputs(const Graph& graph, int index, const std::vector<int>& last_use,
                   std::vector<torch::Tensor>& values) {
  const GraphNode& n = graph.node(index);
  for (int input : n.inputs) {
    if (last_use[input] == index) values[input] = torch::Tensor();
  }
  if (n.residual >= 0 && last_use[n.residual] == index) values[n.residual] = torch::Tensor();
}

bool IsClassifier(const Graph& graph, int index) {
  const std::vector<int> readers = graph.Consumers(index);
  return graph.node(index).kind == NodeKind::kConv && readers.size() == 1 &&
         graph.node(readers[0]).kind == NodeKind::kResize;
}

torch::Tensor RunLibTorchNode(const GraphNode& n, const std::vector<torch::Tensor>& values,
                              bool channels_last) {
  auto in = [&](size_t k) -> const torch::Tensor& { return values[n.inputs.at(k)]; };
  switch (n.kind) {
    case NodeKind::kRelu:
      return torch::relu(in(0));
    case NodeKind::kAdd: {
      torch::Tensor y = in(0);
      for (size_t k = 1; k < n.inputs.size(); ++k) y = y + in(k);
      return y;
    }
    case NodeKind::kMaxPool:
      return torch::max_pool2d(in(0), n.kernel, n.stride, n.padding, /*dilation=*/{1, 1},
                               n.ceil_mode);
    case NodeKind::kConcat: {
      std::vector<torch::Tensor> parts;
      for (size_t k = 0; k < n.inputs.size(); ++k) parts.push_back(in(k));
      return torch::cat(parts, 1);
    }
    case NodeKind::kAttention:
      return PyramidAttention(in(0), in(1), in(2), n.pool_scales, channels_last);
    case NodeKind::kResize:
      return ResizeLogits(in(0).to(torch::kFloat).contiguous(), in(1).size(2), in(1).size(3),
                          n.align_corners);
    default:
      TORCH_CHECK(false, n.name, ": a ", NodeKindName(n.kind), " node is its executor's own");
  }
}

}  // namespace ann
