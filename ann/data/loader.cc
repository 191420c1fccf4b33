#include "ann/data/loader.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "ann/io/image.h"
#include "ann/util/status_macros.h"

namespace ann {

absl::StatusOr<LabeledImage> LoadTrainSample(const Sample& sample, const DatasetInfo& info,
                                             const TrainPipelineConfig& pipeline, uint64_t seed) {
  LabeledImage s;
  ANN_RETURN_IF_ERROR(LoadImageAndLabel(sample, info, &s.image, &s.label));
  Rng rng(seed);
  return ApplyTrainPipeline(std::move(s), pipeline, rng);
}

TrainLoader::TrainLoader(std::vector<Sample> samples, const DatasetInfo& info,
                         TrainPipelineConfig pipeline, NormalizeParams normalize,
                         LoaderOptions options, int64_t start_iteration)
    : samples_(std::move(samples)),
      info_(info),
      pipeline_(pipeline),
      normalize_(normalize),
      options_(options),
      sampler_(static_cast<int64_t>(samples_.size()), options.world_size, options.batch_size,
               options.seed) {
  batches_ = std::make_unique<Prefetch<absl::StatusOr<Batch>>>(
      std::numeric_limits<size_t>::max(), std::max(1, options_.workers),
      static_cast<size_t>(std::max(1, options_.prefetch)), [this, start_iteration](size_t i) {
        return Build(start_iteration + static_cast<int64_t>(i));
      });
}

TrainLoader::~TrainLoader() = default;

absl::StatusOr<Batch> TrainLoader::Build(int64_t iteration) {
  Batch batch;
  batch.iteration = iteration;
  for (int slot = 0; slot < options_.batch_size; ++slot) {
    const int64_t index = sampler_.SampleIndex(iteration, options_.rank, slot);
    ANN_ASSIGN_OR_RETURN(LabeledImage s,
                         LoadTrainSample(samples_[index], info_, pipeline_,
                                         sampler_.AugmentSeed(iteration, options_.rank, slot)));
    const int64_t h = s.image.rows, w = s.image.cols;
    if (slot == 0) {
      batch.images = torch::empty({options_.batch_size, 3, h, w}, torch::kFloat32);
      batch.labels = torch::empty({options_.batch_size, h, w}, torch::kLong);
    } else if (batch.images.size(2) != h || batch.images.size(3) != w) {
      return absl::InternalError(absl::StrCat(samples_[index].image, ": augmented to ", w, "x", h,
                                              ", unlike the rest of its batch"));
    }
    NormalizeInto(s.image, normalize_, batch.images.data_ptr<float>() + slot * 3 * h * w);
    int64_t* dst = batch.labels.data_ptr<int64_t>() + slot * h * w;
    for (int y = 0; y < h; ++y) {
      const uint8_t* row = s.label.ptr<uint8_t>(y);
      for (int x = 0; x < w; ++x) dst[y * w + x] = row[x];
    }
  }
  return batch;
}

absl::StatusOr<Batch> TrainLoader::Next() { return batches_->Next(); }

}  // namespace ann
