#include "ann/inference/inference_form.h"

#include "ann/inference/compose_bottleneck.h"
#include "ann/inference/fold_batch_norm.h"
#include "ann/inference/fuse_activation.h"
#include "ann/inference/fuse_bottleneck.h"
#include "ann/inference/model_graph.h"

namespace ann {

Graph InferenceGraph(const EncoderDecoderImpl& model) {
  Graph graph = BuildModelGraph(model);
  FoldBatchNorm(graph);
  FuseBottlenecks(graph);
  ComposeBottlenecks(graph);
  FuseActivations(graph);
  return graph;
}

}  // namespace ann
