#include "ann/inference/rewrite.h"

namespace ann {

bool IsPointwiseConv(const GraphNode& node) {
  return node.kind == NodeKind::kConv && node.weight.size(2) == 1 && node.weight.size(3) == 1 &&
         node.stride == std::array<int64_t, 2>{1, 1} &&
         node.padding == std::array<int64_t, 2>{0, 0};
}

int ApplyRewrite(Graph& graph, const GraphRewrite& rewrite) {
  int count = 0;
  for (int i = 0; i < graph.size(); ++i) {
    if (!rewrite.Match(graph, i)) continue;
    rewrite.Replace(graph, i);
    ++count;
  }
  if (count > 0) graph.RemoveUnused();
  return count;
}

}  // namespace ann
