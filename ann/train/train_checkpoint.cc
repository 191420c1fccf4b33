#include "ann/train/train_checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "ann/io/checkpoint.h"
#include "ann/io/torch_file.h"
#include "ann/util/files.h"
#include "ann/util/status_macros.h"

namespace ann {
namespace fs = std::filesystem;

namespace {

constexpr char kCheckpointPrefix[] = "iter_";
constexpr char kCheckpointSuffix[] = ".pth";

}  // namespace

std::string TrainingCheckpointPath(const std::string& work_dir, int64_t iter) {
  return (fs::path(work_dir) / absl::StrCat(kCheckpointPrefix, iter, kCheckpointSuffix)).string();
}

std::string BestCheckpointPath(const std::string& work_dir, const std::string& metric,
                               int64_t iter) {
  return (fs::path(work_dir) / absl::StrCat("best_", metric, "_iter_", iter, kCheckpointSuffix))
      .string();
}

absl::Status WriteTrainingCheckpoint(const std::string& path, const TrainingState& state,
                                     EncoderDecoder& model, const Sgd& sgd) {
  PickleValuePtr meta =
      CheckpointMetaDict({state.iter, state.seed, state.class_names, state.palette});
  meta->Set("max_iters", PickleValue::Int(state.max_iters));
  meta->Set("lr", PickleValue::Float(state.lr));
  meta->Set("config", PickleValue::String(state.config));
  if (!state.class_weight.empty()) {
    std::vector<PickleValuePtr> weights;
    for (float w : state.class_weight) weights.push_back(PickleValue::Float(w));
    meta->Set("class_weight", PickleValue::List(std::move(weights)));
  }
  if (state.best_score >= 0) {
    auto hook_msgs = PickleValue::Dict();
    hook_msgs->Set("best_score", PickleValue::Float(state.best_score));
    hook_msgs->Set("best_ckpt", PickleValue::String(state.best_checkpoint));
    hook_msgs->Set("best_iter", PickleValue::Int(state.best_iter));
    hook_msgs->Set("evals_without_improvement", PickleValue::Int(state.evals_without_improvement));
    meta->Set("hook_msgs", hook_msgs);
  }
  meta->Set("torch_rng_state",
            PickleValue::Tensor(at::detail::getDefaultCPUGenerator().get_state()));
  auto root = PickleValue::Dict();
  root->Set("meta", meta);
  root->Set("state_dict", StateDictToPickle(ModuleStateDict(*model)));
  root->Set("optimizer", sgd.StateDict(state.lr));
  return WriteTorchFile(path, *root);
}

absl::Status UpdateLatestLink(const std::string& work_dir, const std::string& path) {
  const std::string latest = (fs::path(work_dir) / "latest.pth").string();
  const std::string tmp = absl::StrCat(latest, ".tmp", getpid());
  const std::string name = fs::path(path).filename().string();
  std::remove(tmp.c_str());
  if (symlink(name.c_str(), tmp.c_str()) != 0 || std::rename(tmp.c_str(), latest.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::InternalError(absl::StrCat(latest, ": cannot update the link"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SaveTrainingCheckpoint(const std::string& work_dir,
                                                   const TrainingState& state,
                                                   EncoderDecoder& model, const Sgd& sgd) {
  const std::string path = TrainingCheckpointPath(work_dir, state.iter);
  ANN_RETURN_IF_ERROR(WriteTrainingCheckpoint(path, state, model, sgd));
  ANN_RETURN_IF_ERROR(UpdateLatestLink(work_dir, path));
  return path;
}

absl::StatusOr<TrainingState> LoadTrainingCheckpoint(const std::string& path, EncoderDecoder& model,
                                                     Sgd& sgd) {
  ANN_ASSIGN_OR_RETURN(PickleValuePtr root, ReadTorchFile(path));
  PickleValuePtr meta = root->Get("meta");
  PickleValuePtr optimizer = root->Get("optimizer");
  PickleValuePtr iter = meta ? meta->Get("iter") : nullptr;
  PickleValuePtr rng = meta ? meta->Get("torch_rng_state") : nullptr;
  if (!iter || iter->kind != PickleValue::Kind::kInt || !optimizer || !rng ||
      rng->kind != PickleValue::Kind::kTensor) {
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     ": not a training checkpoint (no iter / optimizer / generator state); "
                     "use --load_from to start from its weights"));
  }
  TrainingState state;
  state.iter = iter->integer;
  if (auto v = meta->Get("max_iters"); v && v->kind == PickleValue::Kind::kInt) {
    state.max_iters = v->integer;
  }
  if (auto v = meta->Get("seed"); v && v->kind == PickleValue::Kind::kInt) state.seed = v->integer;
  if (auto v = meta->Get("lr"); v && v->kind == PickleValue::Kind::kFloat) state.lr = v->floating;
  if (auto hook = meta->Get("hook_msgs"); hook && hook->kind == PickleValue::Kind::kDict) {
    if (auto v = hook->Get("best_score"); v && v->kind == PickleValue::Kind::kFloat) {
      state.best_score = v->floating;
    }
    if (auto v = hook->Get("best_ckpt"); v && v->IsString()) state.best_checkpoint = v->text;
    if (auto v = hook->Get("best_iter"); v && v->kind == PickleValue::Kind::kInt) {
      state.best_iter = v->integer;
    }
    if (auto v = hook->Get("evals_without_improvement"); v && v->kind == PickleValue::Kind::kInt) {
      state.evals_without_improvement = v->integer;
    }
  }
  // Validate the optimizer state against a copy before touching anything.
  Sgd candidate = sgd;
  absl::Status loaded = candidate.LoadStateDict(*optimizer);
  if (!loaded.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", loaded.message()));
  if (rng->tensor.scalar_type() != torch::kUInt8 ||
      rng->tensor.numel() != at::detail::getDefaultCPUGenerator().get_state().numel()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": bad generator state"));
  }
  ANN_RETURN_IF_ERROR(LoadCheckpointRoot(*root, path, *model, LoadMode::kStrict).status());
  sgd = candidate;
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(rng->tensor);
  return state;
}

int RemoveStaleTemporaries(const std::string& work_dir) {
  static const std::regex kPattern(
      R"((\.(iter|best_[A-Za-z]+_iter)_[0-9]+\.tmp[0-9]+\.pth)|(latest\.pth\.tmp[0-9]+))");
  int removed = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(work_dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    if (std::regex_match(it->path().filename().string(), kPattern) && fs::remove(it->path(), ec)) {
      ++removed;
    }
  }
  return removed;
}

std::vector<std::string> ListTrainingCheckpoints(const std::string& work_dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  absl::StatusOr<std::vector<std::string>> files = ListFiles(work_dir, kCheckpointSuffix, false);
  for (const std::string& path : files.ok() ? *files : std::vector<std::string>{}) {
    const std::string file = fs::path(path).filename().string();
    absl::string_view name = file;
    int64_t n;
    if (absl::ConsumePrefix(&name, kCheckpointPrefix) &&
        absl::ConsumeSuffix(&name, kCheckpointSuffix) && absl::SimpleAtoi(name, &n)) {
      found.emplace_back(n, path);
    }
  }
  std::sort(found.rbegin(), found.rend());
  std::vector<std::string> paths;
  for (auto& [n, p] : found) paths.push_back(p);
  return paths;
}

}  // namespace ann
