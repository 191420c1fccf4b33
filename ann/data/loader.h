// Background loading of training batches: worker threads decode, augment and normalise the
// samples of upcoming iterations while the model computes, at most `prefetch` batches ahead.
// Batches come out in iteration order and are the same whatever the worker count.
#ifndef ANN_DATA_LOADER_H_
#define ANN_DATA_LOADER_H_

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/data/dataset.h"
#include "ann/data/sampler.h"
#include "ann/data/transforms.h"
#include "torch/torch.h"

namespace ann {

struct Batch {
  int64_t iteration = 0;
  torch::Tensor images;  // [B, 3, H, W] float32, normalised.
  torch::Tensor labels;  // [B, H, W] int64, 255 = ignore.
};

// The model's input normalisation: (pixel - mean) / std per channel, after BGR → RGB if to_rgb.
struct NormalizeParams {
  std::array<double, 3> mean = {123.675, 116.28, 103.53};
  std::array<double, 3> std = {58.395, 57.12, 57.375};
  bool to_rgb = true;
};

// Writes `image` (HxWx3 uint8 BGR) normalised into `dst` as 3 planes of H*W floats. Plain loops,
// no LibTorch ops, so loader threads never touch LibTorch's thread pool.
void NormalizeInto(const cv::Mat& image, const NormalizeParams& params, float* dst);

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
  void Work();
  absl::StatusOr<Batch> Build(int64_t iteration);

  std::vector<Sample> samples_;
  const DatasetInfo& info_;
  TrainPipelineConfig pipeline_;
  NormalizeParams normalize_;
  LoaderOptions options_;
  TrainSampler sampler_;

  std::mutex mu_;
  std::condition_variable cv_;
  int64_t next_to_claim_;
  int64_t next_to_return_;
  std::map<int64_t, absl::StatusOr<Batch>> ready_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ann

#endif  // ANN_DATA_LOADER_H_
