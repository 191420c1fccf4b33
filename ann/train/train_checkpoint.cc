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

absl::StatusOr<std::string> SaveTrainingCheckpoint(const std::string& work_dir,
                                                   const TrainingState& state,
                                                   EncoderDecoder& model, const Sgd& sgd) {
  auto meta = PickleValue::Dict();
  meta->Set("ann_version", PickleValue::String("0.1.0"));
  meta->Set("iter", PickleValue::Int(state.iter));
  meta->Set("max_iters", PickleValue::Int(state.max_iters));
  meta->Set("seed", PickleValue::Int(static_cast<int64_t>(state.seed)));
  meta->Set("lr", PickleValue::Float(state.lr));
  meta->Set("config", PickleValue::String(state.config));
  SetClassMeta(*meta, state.class_names, state.palette);
  meta->Set("torch_rng_state",
            PickleValue::Tensor(at::detail::getDefaultCPUGenerator().get_state()));
  auto root = PickleValue::Dict();
  root->Set("meta", meta);
  root->Set("state_dict", StateDictToPickle(ModuleStateDict(*model)));
  root->Set("optimizer", sgd.StateDict(state.lr));
  const std::string path = TrainingCheckpointPath(work_dir, state.iter);
  const std::string name = fs::path(path).filename().string();
  ANN_RETURN_IF_ERROR(WriteTorchFile(path, *root));
  // latest.pth → iter_N.pth, replaced atomically.
  const std::string latest = (fs::path(work_dir) / "latest.pth").string();
  const std::string tmp = absl::StrCat(latest, ".tmp", getpid());
  std::remove(tmp.c_str());
  if (symlink(name.c_str(), tmp.c_str()) != 0 || std::rename(tmp.c_str(), latest.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::InternalError(absl::StrCat(latest, ": cannot update the link"));
  }
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
  static const std::regex kPattern(R"((\.iter_[0-9]+\.tmp[0-9]+\.pth)|(latest\.pth\.tmp[0-9]+))");
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
