#include "ann/io/checkpoint.h"

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ann/io/torch_file.h"
#include "ann/util/version.h"

namespace ann {
namespace {

using Kind = PickleValue::Kind;

void CollectStateDict(const torch::nn::Module& module, const std::string& prefix, StateDict* out) {
  for (const auto& p : module.named_parameters(/*recurse=*/false)) {
    out->emplace_back(prefix + p.key(), p.value());
  }
  for (const auto& b : module.named_buffers(/*recurse=*/false)) {
    out->emplace_back(prefix + b.key(), b.value());
  }
  for (const auto& child : module.named_children()) {
    CollectStateDict(*child.value(), prefix + child.key() + ".", out);
  }
}

std::string ShapeString(c10::IntArrayRef sizes) {
  return absl::StrCat("[", absl::StrJoin(sizes, ","), "]");
}

// Rewrites the longest matching prefix of `key` using `table` (ordered: first match wins).
std::string RewritePrefix(const std::string& key,
                          const std::vector<std::pair<std::string, std::string>>& table) {
  for (const auto& [from, to] : table) {
    if (absl::StartsWith(key, from)) return to + key.substr(from.size());
  }
  return key;
}

// The authors' torchcv names (the README's "What it is") -> ours.
const std::vector<std::pair<std::string, std::string>>& OriginalNameTable() {
  static const auto* table = [] {
    auto* t = new std::vector<std::pair<std::string, std::string>>{
        {"backbone.prefix.conv1.", "backbone.stem.0."},
        {"backbone.prefix.bn1.", "backbone.stem.1."},
        {"backbone.prefix.conv2.", "backbone.stem.3."},
        {"backbone.prefix.bn2.", "backbone.stem.4."},
        {"backbone.prefix.conv3.", "backbone.stem.6."},
        {"backbone.prefix.bn3.", "backbone.stem.7."},
        {"fusion.conv_bn_dropout.0.", "decode_head.fusion.bottleneck.conv."},
        {"fusion.conv_bn_dropout.1.", "decode_head.fusion.bottleneck.bn."},
        {"context.0.", "decode_head.bottleneck.conv."},
        {"context.1.0.", "decode_head.bottleneck.bn."},
        {"context.2.conv_bn_dropout.0.", "decode_head.context.bottleneck.conv."},
        {"context.2.conv_bn_dropout.1.0.", "decode_head.context.bottleneck.bn."},
        {"cls.", "decode_head.conv_seg."},
        {"dsn.0.", "auxiliary_head.convs.0.conv."},
        {"dsn.1.0.", "auxiliary_head.convs.0.bn."},
        {"dsn.3.", "auxiliary_head.conv_seg."},
    };
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"fusion.stages.", "decode_head.fusion.stages."},
             {"context.2.stages.", "decode_head.context.stages."}}) {
      for (int stage = 0; stage < 4; ++stage) {
        const std::string f = absl::StrCat(from, stage, ".");
        const std::string o = absl::StrCat(to, stage, ".");
        t->push_back({f + "f_key.0.", o + "key_project.conv."});
        t->push_back({f + "f_key.1.0.", o + "key_project.bn."});
        t->push_back({f + "f_query.0.", o + "query_project.conv."});
        t->push_back({f + "f_query.1.0.", o + "query_project.bn."});
        t->push_back({f + "f_value.", o + "value_project."});
        t->push_back({f + "W.", o + "out_project."});
      }
    }
    return t;
  }();
  return *table;
}

// torchcv's deep-stem ImageNet backbones name the stem `prefix.*`.
const std::vector<std::pair<std::string, std::string>>& BackboneNameTable() {
  static const auto* table = new std::vector<std::pair<std::string, std::string>>{
      {"prefix.conv1.", "stem.0."}, {"prefix.bn1.", "stem.1."},   {"prefix.conv2.", "stem.3."},
      {"prefix.bn2.", "stem.4."},   {"prefix.conv3.", "stem.6."}, {"prefix.bn3.", "stem.7."},
  };
  return *table;
}

bool AllHavePrefix(const StateDict& sd, const std::string& prefix) {
  if (sd.empty()) return false;
  for (const auto& [k, v] : sd) {
    if (!absl::StartsWith(k, prefix)) return false;
  }
  return true;
}

bool AnyHasPrefix(const StateDict& sd, const std::string& prefix) {
  for (const auto& [k, v] : sd) {
    if (absl::StartsWith(k, prefix)) return true;
  }
  return false;
}

bool AnyContains(const StateDict& sd, const std::string& part) {
  for (const auto& [k, v] : sd) {
    if (absl::StrContains(k, part)) return true;
  }
  return false;
}

std::string ListHead(const std::vector<std::string>& names, size_t limit = 4) {
  std::vector<std::string> head(names.begin(), names.begin() + std::min(limit, names.size()));
  std::string s = absl::StrJoin(head, ", ");
  if (names.size() > limit) absl::StrAppend(&s, ", ... ", names.size() - limit, " more");
  return s;
}

}  // namespace

StateDict ModuleStateDict(const torch::nn::Module& module) {
  StateDict out;
  CollectStateDict(module, "", &out);
  return out;
}

absl::StatusOr<StateDict> ExtractStateDict(const PickleValue& root, const std::string& path,
                                           CheckpointLayout* layout) {
  if (root.kind != Kind::kDict) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected a dict checkpoint, found a ", root.TypeName()));
  }
  const PickleValue* dict = &root;
  for (const char* key : {"state_dict", "model", "net"}) {
    PickleValuePtr inner = root.Get(key);
    if (inner && inner->kind == Kind::kDict) {
      dict = inner.get();
      break;
    }
  }
  StateDict sd;
  for (const auto& [k, v] : dict->entries) {
    if (!k->IsString()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": state_dict has a non-string key (", k->TypeName(), ")"));
    }
    if (v->kind != Kind::kTensor) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": state_dict entry '", k->text,
                                                     "' is a ", v->TypeName(), ", not a tensor"));
    }
    sd.emplace_back(k->text, v->tensor);
  }
  if (sd.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": checkpoint holds no tensors"));
  }
  // DataParallel / DistributedDataParallel prefix.
  if (AllHavePrefix(sd, "module.")) {
    for (auto& [k, v] : sd) k = k.substr(7);
  }
  CheckpointLayout found = CheckpointLayout::kMmseg;
  if (AnyContains(sd, ".f_key.") || AnyHasPrefix(sd, "backbone.prefix.") ||
      AnyHasPrefix(sd, "dsn.")) {
    found = CheckpointLayout::kOriginal;
    for (auto& [k, v] : sd) k = RewritePrefix(k, OriginalNameTable());
  } else if (!AnyHasPrefix(sd, "backbone.") && !AnyHasPrefix(sd, "decode_head.")) {
    found = CheckpointLayout::kBackbone;
    for (auto& [k, v] : sd) k = "backbone." + RewritePrefix(k, BackboneNameTable());
  }
  if (layout) *layout = found;
  return sd;
}

std::string LoadReport::Summary() const {
  std::vector<std::string> parts;
  if (!missing.empty()) {
    parts.push_back(absl::StrCat(missing.size(), " missing keys (", ListHead(missing), ")"));
  }
  if (!unexpected.empty()) {
    parts.push_back(
        absl::StrCat(unexpected.size(), " unexpected keys (", ListHead(unexpected), ")"));
  }
  if (!mismatched.empty()) {
    parts.push_back(
        absl::StrCat(mismatched.size(), " shape mismatches (", ListHead(mismatched, 3), ")"));
  }
  if (!reinitialised.empty()) {
    parts.push_back(absl::StrCat(reinitialised.size(), " classifier tensors re-initialised for ",
                                 "the new classes (", absl::StrJoin(reinitialised, "; "), ")"));
  }
  if (parts.empty()) return absl::StrCat("all ", loaded.size(), " keys loaded");
  return absl::StrCat(loaded.size(), " keys loaded; ", absl::StrJoin(parts, "; "));
}

namespace {

// Matches the checkpoint against the module once: the report, plus the (model tensor,
// checkpoint tensor) pairs that LoadReport::loaded names, to be copied if the caller accepts.
struct Match {
  LoadReport report;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
};

Match MatchStateDict(torch::nn::Module& module, const StateDict& state_dict) {
  Match match;
  LoadReport& report = match.report;
  std::map<std::string, const torch::Tensor*> source;
  for (const auto& [k, v] : state_dict) source[k] = &v;
  std::set<std::string> used;
  for (auto& [name, target] : ModuleStateDict(module)) {
    auto it = source.find(name);
    if (it == source.end()) {
      report.missing.push_back(name);
      continue;
    }
    used.insert(name);
    const torch::Tensor& value = *it->second;
    if (value.sizes() != target.sizes()) {
      report.mismatched.push_back(absl::StrCat(name, ": model ", ShapeString(target.sizes()),
                                               ", checkpoint ", ShapeString(value.sizes())));
      continue;
    }
    report.loaded.push_back(name);
    match.copies.emplace_back(target, value);
  }
  for (const auto& [k, v] : state_dict) {
    if (!used.count(k)) report.unexpected.push_back(k);
  }
  return match;
}

void CopyMatched(const Match& match) {
  torch::NoGradGuard no_grad;
  for (const auto& [target, value] : match.copies) {
    torch::Tensor t = target;
    t.copy_(value);
  }
}

}  // namespace

LoadReport LoadStateDict(torch::nn::Module& module, const StateDict& state_dict) {
  Match match = MatchStateDict(module, state_dict);
  CopyMatched(match);
  return match.report;
}

absl::StatusOr<LoadReport> LoadCheckpoint(const std::string& path, torch::nn::Module& module,
                                          LoadMode mode) {
  auto root = ReadTorchFile(path);
  if (!root.ok()) return root.status();
  return LoadCheckpointRoot(**root, path, module, mode);
}

absl::StatusOr<LoadReport> LoadCheckpointRoot(const PickleValue& root, const std::string& path,
                                              torch::nn::Module& module, LoadMode mode) {
  auto state_dict = ExtractStateDict(root, path);
  if (!state_dict.ok()) return state_dict.status();
  Match match = MatchStateDict(module, *state_dict);
  LoadReport& report = match.report;
  if (mode == LoadMode::kFineTune) {
    // A classifier of another class count: the fresh model's, as mmseg's fine-tuning configs
    // get by initialising decode_head.conv_seg anew.
    auto classifier = [](const std::string& entry) {
      const std::string name = entry.substr(0, entry.find(':'));
      return absl::EndsWith(name, ".conv_seg.weight") || absl::EndsWith(name, ".conv_seg.bias");
    };
    std::vector<std::string> still;
    for (const std::string& entry : report.mismatched) {
      if (classifier(entry)) {
        report.reinitialised.push_back(entry);
      } else {
        still.push_back(entry);
      }
    }
    report.mismatched = still;
  }
  if (mode != LoadMode::kNonStrict && !report.clean()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": checkpoint does not match the model: ", report.Summary()));
  }
  if (report.loaded.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": no checkpoint key matches the model: ", report.Summary()));
  }
  CopyMatched(match);
  return report;
}

PickleValuePtr CheckpointMetaDict(const CheckpointMeta& meta) {
  auto dict = PickleValue::Dict();
  dict->Set("ann_version", PickleValue::String(kAnnVersion));
  dict->Set("iter", PickleValue::Int(meta.iter));
  dict->Set("seed", PickleValue::Int(static_cast<int64_t>(meta.seed)));
  std::vector<PickleValuePtr> names, colors;
  for (const std::string& name : meta.class_names) names.push_back(PickleValue::String(name));
  for (const Rgb& rgb : meta.palette) {
    colors.push_back(PickleValue::List(
        {PickleValue::Int(rgb[0]), PickleValue::Int(rgb[1]), PickleValue::Int(rgb[2])}));
  }
  dict->Set("CLASSES", PickleValue::Tuple(std::move(names)));
  dict->Set("PALETTE", PickleValue::List(std::move(colors)));
  return dict;
}

PickleValuePtr StateDictToPickle(const StateDict& state_dict) {
  auto dict = PickleValue::Dict(/*ordered=*/true);
  for (const auto& [k, v] : state_dict) {
    dict->entries.emplace_back(PickleValue::String(k), PickleValue::Tensor(v.detach().cpu()));
  }
  return dict;
}

absl::Status SaveCheckpoint(const std::string& path, const torch::nn::Module& module,
                            PickleValuePtr meta) {
  auto root = PickleValue::Dict();
  root->Set("meta", meta ? meta : PickleValue::Dict());
  root->Set("state_dict", StateDictToPickle(ModuleStateDict(module)));
  return WriteTorchFile(path, *root);
}

}  // namespace ann
