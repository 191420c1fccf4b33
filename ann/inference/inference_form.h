// The inference form of a model as a graph: BuildModelGraph, then the rewrites every fast backend
// runs on (in this order): FoldBatchNorm, FuseBottlenecks (AFNB's and APNB's out_project into
// their bottleneck), ComposeBottlenecks (AFNB's bottleneck into the head's 3x3 one), and
// FuseActivations (residual sums and ReLUs into the convolutions). Equal to the model up to
// rounding; the model itself is not changed and can still be trained.
#ifndef ANN_INFERENCE_INFERENCE_FORM_H_
#define ANN_INFERENCE_INFERENCE_FORM_H_

#include "ann/inference/graph.h"
#include "ann/model/segmentor.h"

namespace ann {

Graph InferenceGraph(const EncoderDecoderImpl& model);

}  // namespace ann

#endif  // ANN_INFERENCE_INFERENCE_FORM_H_
