#include "ann/inference/compose_bottleneck.h"

#include <algorithm>
#include <memory>

#include "ann/inference/border_bias.h"

namespace ann {

bool ComposeBottleneckRewrite::Match(const Graph& graph, int index) const {
  const GraphNode& conv = graph.node(index);
  if (conv.kind != NodeKind::kConv || conv.inputs.size() != 1 || conv.residual >= 0 ||
      conv.border) {
    return false;
  }
  for (int i = 0; i < 2; ++i) {
    const int64_t kernel = conv.weight.size(2 + i);
    if (conv.stride[i] != 1 || (kernel - 1) * conv.dilation[i] != 2 * conv.padding[i]) {
      return false;
    }
  }
  const int first = conv.inputs[0];
  const GraphNode& f = graph.node(first);
  if (!IsPointwiseConv(f) || f.inputs.size() < 2 || f.relu || f.residual >= 0 || f.border ||
      graph.Consumers(first) != std::vector<int>{index}) {
    return false;
  }
  const int64_t in = f.weight.size(1), mid = f.weight.size(0);
  const int64_t taps = conv.weight.size(2) * conv.weight.size(3), out = conv.weight.size(0);
  return in * taps * out < in * mid + mid * taps * out;
}

void ComposeBottleneckRewrite::Replace(Graph& graph, int index) const {
  torch::NoGradGuard no_grad;
  const GraphNode& f = graph.node(graph.node(index).inputs[0]);
  GraphNode& conv = graph.mutable_node(index);
  const torch::Tensor first = f.weight.to(torch::kDouble).flatten(1);  // [mid, in]
  const torch::Tensor w = conv.weight.to(torch::kDouble);              // [out, mid, kh, kw]
  const int64_t out = w.size(0), mid = w.size(1), kh = w.size(2), kw = w.size(3);
  // [out, kh, kw, mid] x [mid, in] -> [out, in, kh, kw]
  const torch::Tensor composed = w.permute({0, 2, 3, 1})
                                     .reshape({-1, mid})
                                     .mm(first)
                                     .view({out, kh, kw, -1})
                                     .permute({0, 3, 1, 2});
  torch::Tensor taps = f.bias.defined()
                           ? (w * f.bias.to(torch::kDouble).view({1, -1, 1, 1})).sum(1, true)
                           : torch::zeros({out, 1, kh, kw}, torch::kDouble);
  torch::Tensor bias =
      conv.bias.defined() ? conv.bias.to(torch::kDouble) : torch::zeros({out}, torch::kDouble);
  auto border = std::make_shared<const BorderBias>(std::move(taps), std::move(bias), conv.padding,
                                                   conv.dilation);
  conv.inputs = f.inputs;
  conv.weight = composed;
  conv.bias = border->interior();
  conv.border = std::move(border);
}

int ComposeBottlenecks(Graph& graph) { return ApplyRewrite(graph, ComposeBottleneckRewrite()); }

std::vector<ConvChunk> ComposedChunks(const Graph& graph, const GraphNode& node) {
  constexpr int64_t kFeatureChunk = 512;
  std::vector<ConvChunk> chunks;
  int64_t offset = 0;
  for (size_t k = 0; k < node.inputs.size(); ++k) {
    const GraphNode& input = graph.node(node.inputs[k]);
    const bool last = k + 1 == node.inputs.size();
    TORCH_CHECK(last || input.kind == NodeKind::kAttention, node.name,
                ": a composed convolution reads attention maps, then features");
    const int64_t width = last ? node.weight.size(1) - offset : input.channels;
    const int64_t chunk = last ? kFeatureChunk : width;
    for (int64_t start = 0; start < width; start += chunk) {
      chunks.push_back({k, start, std::min(chunk, width - start), offset + start});
    }
    offset += width;
  }
  return chunks;
}

}  // namespace ann
