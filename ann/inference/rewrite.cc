#include "ann/inference/rewrite.h"

namespace ann {

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
