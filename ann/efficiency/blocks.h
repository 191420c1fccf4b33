// The paper's efficiency comparison (the README's ann_efficiency section), following the authors'
// statistics scripts: the attention stage of each block on a [N, C, H, W] feature map, without the
// fusion / bottleneck convolutions around it.
//   nonlocal  standard non-local: shared key/query C→256, value 256, out 256→C, N×N attention;
//   apnb      APNB's self-attention: the same with pyramid sampling (1, 3, 6, 8 → 110 anchors)
//             of keys and values;
//   afnb      AFNB's self-attention: queries from the [N, C, H, W] map, keys and values from a
//             lower-level [N, C/2, H, W] map (C4 next to C5), pyramid-sampled.
#ifndef ANN_EFFICIENCY_BLOCKS_H_
#define ANN_EFFICIENCY_BLOCKS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/efficiency/flops.h"
#include "ann/efficiency/latency.h"

namespace ann {

// The blocks of the paper's comparison.
enum class BlockKind { kNonLocal, kApnb, kAfnb };

// "nonlocal", "apnb" or "afnb".
absl::StatusOr<BlockKind> ParseBlockKind(const std::string& name);
// The name ParseBlockKind reads.
std::string BlockName(BlockKind kind);

// What was measured of one block at one shape.
struct BlockReport {
  std::string block;
  Shape shape;
  int64_t params = 0;
  int64_t flops = 0;          // 1 MAC = 1 FLOP.
  int64_t memory_bytes = -1;  // Peak allocated during the forward (-1: not measured).
  Latency latency;            // Minus the pass-through baseline (empty when not timed).
  bool timed = false;
};

// What MeasureBlock measures besides FLOPs and parameters.
struct MeasureOptions {
  bool memory = true;
  bool time = true;
  int warmup = 2;
  int runs = 20;
};

// Builds the block (seeded, eval mode), counts FLOPs and parameters, and runs it as asked.
BlockReport MeasureBlock(BlockKind kind, const Shape& shape, const MeasureOptions& options);

}  // namespace ann

#endif  // ANN_EFFICIENCY_BLOCKS_H_
