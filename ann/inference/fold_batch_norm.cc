#include "ann/inference/fold_batch_norm.h"

#include "ann/model/conv_module.h"

namespace ann {
namespace {

// The weight scaled per output channel by gamma / sqrt(var + eps), the bias
// beta + (b - mean) * that scale (an undefined bias counts as 0), computed in float64 and
// returned in the weight's dtype.
ConvWeights FoldBatchNormWeights(const torch::Tensor& weight, const torch::Tensor& bias,
                                 const GraphNode& bn) {
  torch::NoGradGuard no_grad;
  const torch::Tensor scale =
      bn.weight.to(torch::kDouble) / torch::sqrt(bn.running_var.to(torch::kDouble) + bn.eps);
  const torch::Tensor old_bias =
      bias.defined() ? bias.to(torch::kDouble) : torch::zeros_like(scale);
  const torch::Tensor folded_bias =
      bn.bias.to(torch::kDouble) + (old_bias - bn.running_mean.to(torch::kDouble)) * scale;
  const auto dtype = weight.scalar_type();
  return {(weight.to(torch::kDouble) * scale.view({-1, 1, 1, 1})).to(dtype), folded_bias.to(dtype)};
}

}  // namespace

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
  const ConvWeights folded = FoldBatchNormWeights(c.weight, c.bias, bn);
  c.weight = folded.weight;
  c.bias = folded.bias;
  graph.ReplaceUses(index, conv);
}

int FoldBatchNorm(Graph& graph) { return ApplyRewrite(graph, FoldBatchNormRewrite()); }

}  // namespace ann
