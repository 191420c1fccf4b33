#include "ann/inference/fuse_activation.h"

namespace ann {
namespace {

// A convolution only `reader` reads, with nothing after it inside yet.
bool IsBareConvReadOnlyBy(const Graph& graph, int conv, int reader) {
  const GraphNode& c = graph.node(conv);
  return c.kind == NodeKind::kConv && !c.relu && c.residual < 0 &&
         graph.Consumers(conv) == std::vector<int>{reader};
}

}  // namespace

bool FuseResidualRewrite::Match(const Graph& graph, int index) const {
  const GraphNode& add = graph.node(index);
  return add.kind == NodeKind::kAdd && add.inputs.size() == 2 && add.inputs[0] != add.inputs[1] &&
         IsBareConvReadOnlyBy(graph, add.inputs[0], index);
}

void FuseResidualRewrite::Replace(Graph& graph, int index) const {
  const GraphNode& add = graph.node(index);
  const int conv = add.inputs[0];
  GraphNode& c = graph.mutable_node(conv);
  c.residual = add.inputs[1];
  c.name = add.name;
  graph.ReplaceUses(index, conv);
}

bool FuseReluRewrite::Match(const Graph& graph, int index) const {
  const GraphNode& relu = graph.node(index);
  if (relu.kind != NodeKind::kRelu) return false;
  const int conv = relu.inputs[0];
  const GraphNode& c = graph.node(conv);
  return c.kind == NodeKind::kConv && !c.relu && graph.Consumers(conv) == std::vector<int>{index};
}

void FuseReluRewrite::Replace(Graph& graph, int index) const {
  const int conv = graph.node(index).inputs[0];
  graph.mutable_node(conv).relu = true;
  graph.ReplaceUses(index, conv);
}

int FuseActivations(Graph& graph) {
  return ApplyRewrite(graph, FuseResidualRewrite()) + ApplyRewrite(graph, FuseReluRewrite());
}

}  // namespace ann
