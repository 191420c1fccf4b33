#include "ann/inference/fold_batch_norm.h"

#include "ann/model/conv_module.h"

namespace ann {

bool FoldBatchNormRewrite::Match(const Graph& graph, int index) const {
  const GraphNode& bn = graph.node(index);
  if (bn.kind != NodeKind::kBatchNorm) return false;
  const int conv = bn.inputs[0];
  const GraphNode& c = graph.node(conv);
  // A ReLU or a residual already inside the conv would come before the BN.
  return c.kind == NodeKind::kConv && !c.relu && c.residual < 0 &&
         graph.Consumers(conv) == std::vector<int>{index};
}

void FoldBatchNormRewrite::Replace(Graph& graph, int index) const {
  const GraphNode& bn = graph.node(index);
  const int conv = bn.inputs[0];
  GraphNode& c = graph.mutable_node(conv);
  const ConvWeights folded = FoldBatchNormWeights(c.weight, c.bias, bn.weight, bn.bias,
                                                 bn.running_mean, bn.running_var, bn.eps);
  c.weight = folded.weight;
  c.bias = folded.bias;
  graph.ReplaceUses(index, conv);
}

int FoldBatchNorm(Graph& graph) { return ApplyRewrite(graph, FoldBatchNormRewrite()); }

}  // namespace ann
