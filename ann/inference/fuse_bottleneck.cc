#include "ann/inference/fuse_bottleneck.h"

#include "ann/model/ann_head.h"

namespace ann {
namespace {

bool ReadOnlyBy(const Graph& graph, int node, int reader) {
  return graph.Consumers(node) == std::vector<int>{reader};
}

// A 1x1 convolution with nothing inside after it.
bool IsBarePointwise(const GraphNode& conv) {
  return IsPointwiseConv(conv) && conv.residual < 0 && !conv.relu;
}

// The out_project convolutions summed into `context` (itself one, or a sum of them), each reading
// an attention node; empty when `context` is something else.
std::vector<int> OutProjections(const Graph& graph, int context) {
  std::vector<int> parts = {context};
  const GraphNode& c = graph.node(context);
  if (c.kind == NodeKind::kAdd) {
    parts = c.inputs;
    for (int part : parts) {
      if (!ReadOnlyBy(graph, part, context)) return {};
    }
  }
  for (int part : parts) {
    const GraphNode& p = graph.node(part);
    if (!IsBarePointwise(p) || p.inputs.size() != 1 ||
        graph.node(p.inputs[0]).kind != NodeKind::kAttention) {
      return {};
    }
  }
  return parts;
}

}  // namespace

bool FuseBottleneckRewrite::Match(const Graph& graph, int index) const {
  const GraphNode& bottleneck = graph.node(index);
  if (!IsPointwiseConv(bottleneck) || bottleneck.inputs.size() != 1 || bottleneck.residual >= 0) {
    return false;
  }
  const int cat = bottleneck.inputs[0];
  const GraphNode& c = graph.node(cat);
  if (c.kind != NodeKind::kConcat || c.inputs.size() != 2 || !ReadOnlyBy(graph, cat, index) ||
      !ReadOnlyBy(graph, c.inputs[0], cat)) {
    return false;
  }
  const std::vector<int> projections = OutProjections(graph, c.inputs[0]);
  if (projections.empty()) return false;
  // Whether it saves work: the attention narrower than the context.
  int64_t attention = 0;
  for (int p : projections) attention += graph.node(p).weight.size(1);
  return attention < graph.node(projections[0]).weight.size(0);
}

void FuseBottleneckRewrite::Replace(Graph& graph, int index) const {
  const GraphNode& c = graph.node(graph.node(index).inputs[0]);
  const int feats = c.inputs[1];
  std::vector<int> inputs;
  std::vector<torch::Tensor> out_weights, out_biases;
  for (int p : OutProjections(graph, c.inputs[0])) {
    const GraphNode& projection = graph.node(p);
    inputs.push_back(projection.inputs[0]);
    out_weights.push_back(projection.weight);
    out_biases.push_back(projection.bias);
  }
  inputs.push_back(feats);
  GraphNode& bottleneck = graph.mutable_node(index);
  torch::NoGradGuard no_grad;
  const ConvWeights fused = FuseBottleneckWeights(out_weights, out_biases, bottleneck.weight,
                                                  bottleneck.bias, torch::kDouble);
  bottleneck.inputs = std::move(inputs);
  bottleneck.weight = fused.weight;
  bottleneck.bias = fused.bias;
}

int FuseBottlenecks(Graph& graph) { return ApplyRewrite(graph, FuseBottleneckRewrite()); }

}  // namespace ann
