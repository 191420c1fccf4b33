// Model checkpoints: find the state_dict in whatever a user has (an mmseg checkpoint, a bare
// state_dict, an ImageNet backbone, the authors' `module.`-prefixed checkpoint), map its names to
// mmseg's, and load it into a module with a readable report; write mmseg-layout checkpoints that
// Python's torch.load reads back as {'meta': {...}, 'state_dict': OrderedDict(...)}.
//
//   EncoderDecoder model(config);
//   RETURN_IF_ERROR(LoadCheckpoint("ann_r50.pth", *model, LoadMode::kStrict).status());
//   RETURN_IF_ERROR(SaveCheckpoint("out.pth", *model, meta));
#ifndef ANN_IO_CHECKPOINT_H_
#define ANN_IO_CHECKPOINT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ann/io/palette.h"
#include "ann/io/pickle.h"
#include "torch/torch.h"

namespace ann {

// Ordered (name, tensor) pairs, as in Python's state_dict.
using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

// Layouts ExtractStateDict recognises.
enum class CheckpointLayout {
  kMmseg,     // {'meta', 'state_dict'} or a bare state_dict with mmseg names.
  kOriginal,  // The authors' torchcv checkpoint (`module.` prefix, f_key / W / dsn names).
  kBackbone,  // ImageNet backbone only (mmcv resnet*_v1c or torchvision names).
};

// The module's parameters and buffers in Python's state_dict order (per module: own parameters,
// own buffers, then children). Shared submodules appear under every name they are registered at.
StateDict ModuleStateDict(const torch::nn::Module& module);

// Finds the state_dict in `root` and rewrites its names to mmseg's EncoderDecoder names
// (`backbone.*`, `decode_head.*`, `auxiliary_head.*`). `path` is used in error messages.
absl::StatusOr<StateDict> ExtractStateDict(const PickleValue& root, const std::string& path,
                                           CheckpointLayout* layout = nullptr);

// What loading a state_dict into a module matched and did not.
struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;     // in the model, not in the checkpoint
  std::vector<std::string> unexpected;  // in the checkpoint, not in the model
  std::vector<std::string> mismatched;  // "name: model [..], checkpoint [..]"
  // LoadMode::kFineTune: classifier tensors of another class count, left as initialised.
  std::vector<std::string> reinitialised;  // "name [model shape] (checkpoint [..])"
  bool clean() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  // One line: counts with the first few names of each list.
  std::string Summary() const;
};

// Copies every entry whose name and shape match (converting dtype, e.g. float16 -> float32).
LoadReport LoadStateDict(torch::nn::Module& module, const StateDict& state_dict);

// How LoadCheckpoint treats keys that do not match the model.
enum class LoadMode {
  kStrict,     // Any missing, unexpected or mismatched key is an error (nothing is changed).
  kNonStrict,  // Load what matches (backbone initialisation); the report says what did not.
  // Fine-tuning to other classes: as kStrict, except that the classifiers (`*.conv_seg.weight`
  // and `.bias` of the decode and auxiliary heads) may have another class count; those keep the
  // model's initialisation and are listed in LoadReport::reinitialised.
  kFineTune,
};

// Reads `path`, extracts and maps its state_dict, loads it into `module`.
absl::StatusOr<LoadReport> LoadCheckpoint(const std::string& path, torch::nn::Module& module,
                                          LoadMode mode);

// The same for a checkpoint already read with ReadTorchFile (`path` names it in errors).
absl::StatusOr<LoadReport> LoadCheckpointRoot(const PickleValue& root, const std::string& path,
                                              torch::nn::Module& module, LoadMode mode);

// Writes {'meta': meta, 'state_dict': OrderedDict(ModuleStateDict(module))} atomically.
// `meta` may be null (an empty dict is written).
absl::Status SaveCheckpoint(const std::string& path, const torch::nn::Module& module,
                            PickleValuePtr meta);

// What every checkpoint we write records in its `meta`, whoever writes it (ann_train,
// ann_init_checkpoint).
struct CheckpointMeta {
  int64_t iter = 0;
  uint64_t seed = 0;
  std::vector<std::string> class_names;
  std::vector<Rgb> palette;
};

// The `meta` dict of `meta`: `ann_version` (kAnnVersion), `iter`, `seed`, and mmseg's class
// entries `CLASSES`, a tuple of names, and `PALETTE`, a list of [R, G, B] lists, as mmseg 0.x
// writes them and as init_segmentor (0.x) and init_model (1.x) read them. A writer adds its own
// entries after these.
PickleValuePtr CheckpointMetaDict(const CheckpointMeta& meta);

// A PickleValue OrderedDict of tensors from `state_dict`.
PickleValuePtr StateDictToPickle(const StateDict& state_dict);

}  // namespace ann

#endif  // ANN_IO_CHECKPOINT_H_
