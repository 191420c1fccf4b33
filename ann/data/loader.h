// Background loading of training batches: worker threads decode, augment and normalise the
// samples of upcoming iterations while the model computes, at most `prefetch` batches ahead.
// Batches come out in iteration order and are the same whatever the worker count.
#ifndef ANN_DATA_LOADER_H_
#define ANN_DATA_LOADER_H_

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/data/dataset.h"
#include "ann/data/normalize.h"
#include "ann/data/sampler.h"
#include "ann/data/transforms.h"
#include "ann/util/prefetch.h"
#include "torch/torch.h"

namespace ann {

// The tensors of one training iteration.
struct Batch {
  int64_t iteration = 0;
  torch::Tensor images;  // [B, 3, H, W] float32, normalised.
  torch::Tensor labels;  // [B, H, W] int64, 255 = ignore.
};

// Which slice of every iteration this process loads, and with how many threads.
struct LoaderOptions {
  int rank = 0;
  int world_size = 1;
  int batch_size = 2;  // Per rank.
  uint64_t seed = 0;
  int workers = 2;
  int prefetch = 2;
};

// Loads and augments sample `index` with its own RNG stream (used by the loader and tests).
absl::StatusOr<LabeledImage> LoadTrainSample(const Sample& sample, const DatasetInfo& info,
                                             const TrainPipelineConfig& pipeline, uint64_t seed);

// Batches of consecutive iterations, built ahead by the worker pool (ann/util/prefetch.h).
class TrainLoader {
 public:
  TrainLoader(std::vector<Sample> samples, const DatasetInfo& info, TrainPipelineConfig pipeline,
              NormalizeParams normalize, LoaderOptions options, int64_t start_iteration);
  ~TrainLoader();
  TrainLoader(const TrainLoader&) = delete;
  TrainLoader& operator=(const TrainLoader&) = delete;

  // The batch of the next iteration (start_iteration, then +1 each call). Errors name the file.
  absl::StatusOr<Batch> Next();

 private:
  absl::StatusOr<Batch> Build(int64_t iteration);

  std::vector<Sample> samples_;
  const DatasetInfo& info_;
  TrainPipelineConfig pipeline_;
  NormalizeParams normalize_;
  LoaderOptions options_;
  TrainSampler sampler_;
  // Batches of start_iteration + i, built by the project's one worker pool (declared last: its
  // threads use the members above and stop first).
  std::unique_ptr<Prefetch<absl::StatusOr<Batch>>> batches_;
};

}  // namespace ann

#endif  // ANN_DATA_LOADER_H_
