#include "ann/data/loader.h"

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

void NormalizeInto(const cv::Mat& image, const NormalizeParams& params, float* dst) {
  const int plane = image.rows * image.cols;
  for (int c = 0; c < 3; ++c) {
    const int src_channel = params.to_rgb ? 2 - c : c;
    const float mean = static_cast<float>(params.mean[c]);
    const float std = static_cast<float>(params.std[c]);
    float* out = dst + c * plane;
    for (int y = 0; y < image.rows; ++y) {
      const uint8_t* row = image.ptr<uint8_t>(y);
      for (int x = 0; x < image.cols; ++x) {
        *out++ = (static_cast<float>(row[3 * x + src_channel]) - mean) / std;
      }
    }
  }
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
               options.seed),
      next_to_claim_(start_iteration),
      next_to_return_(start_iteration) {
  const int workers = std::max(1, options_.workers);
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { Work(); });
}

TrainLoader::~TrainLoader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

absl::StatusOr<Batch> TrainLoader::Build(int64_t iteration) {
  Batch batch;
  batch.iteration = iteration;
  for (int slot = 0; slot < options_.batch_size; ++slot) {
    const int64_t index = sampler_.SampleIndex(iteration, options_.rank, slot);
    ANN_ASSIGN_OR_RETURN(
        LabeledImage s,
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

void TrainLoader::Work() {
  while (true) {
    int64_t iteration;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return stop_ || next_to_claim_ < next_to_return_ + std::max(1, options_.prefetch);
      });
      if (stop_) return;
      iteration = next_to_claim_++;
    }
    absl::StatusOr<Batch> batch = Build(iteration);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_.emplace(iteration, std::move(batch));
    }
    cv_.notify_all();
  }
}

absl::StatusOr<Batch> TrainLoader::Next() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return ready_.count(next_to_return_) > 0; });
  auto node = ready_.extract(next_to_return_);
  ++next_to_return_;
  lock.unlock();
  cv_.notify_all();
  return std::move(node.mapped());
}

}  // namespace ann
