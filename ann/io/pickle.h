// A pickle reader and writer for PyTorch checkpoints.
//
// `torch::pickle_load` cannot read what Python's `torch.save` writes for real checkpoints
// (collections.OrderedDict state_dicts, one-entry dicts, numpy scalars in `meta`), so we parse
// the pickle virtual machine ourselves. Values form a small tree (PickleValue); tensors come from
// a caller-supplied persistent-load hook, which is how torch's zip format references storages.
// Classes we do not know become opaque objects instead of errors: a checkpoint's `meta` may hold
// anything, and only the state_dict matters for loading.
#ifndef ANN_IO_PICKLE_H_
#define ANN_IO_PICKLE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "torch/torch.h"

namespace ann {

struct PickleValue;
// Values are shared: the memo of a pickle may reference one value from several places.
using PickleValuePtr = std::shared_ptr<PickleValue>;

// A value of a pickle: Python's None, bool, int, float, str, bytes, tuple, list, dict, a tensor,
// a class reference or an opaque object.
struct PickleValue {
  enum class Kind {
    kNone,
    kBool,
    kInt,
    kBigInt,  // An integer wider than 64 bits: little-endian two's complement bytes in `text`
              // (torch's legacy files open with one, their magic number).
    kFloat,
    kString,  // Python str (UTF-8)
    kBytes,
    kTuple,
    kList,
    kDict,  // dict and OrderedDict; insertion order kept
    kTensor,
    kGlobal,  // a class or function reference: module + name
    kObject,  // an instance of a class we do not interpret
  };
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double floating = 0;
  std::string text;                                                // kString, kBytes, kBigInt
  std::vector<PickleValuePtr> items;                               // kTuple, kList
  std::vector<std::pair<PickleValuePtr, PickleValuePtr>> entries;  // kDict
  bool ordered = false;  // kDict: write as collections.OrderedDict
  torch::Tensor tensor;
  std::string module, name;    // kGlobal; kObject's class
  PickleValuePtr args, state;  // kObject

  PickleValue() = default;
  PickleValue(const PickleValue&) = default;
  PickleValue& operator=(const PickleValue&) = default;
  // Tears the tree down without recursion: a hostile pickle can nest values tens of thousands of
  // levels deep.
  ~PickleValue();

  static PickleValuePtr None();
  static PickleValuePtr Bool(bool v);
  static PickleValuePtr Int(int64_t v);
  static PickleValuePtr Float(double v);
  static PickleValuePtr String(std::string v);
  static PickleValuePtr Tuple(std::vector<PickleValuePtr> items);
  static PickleValuePtr List(std::vector<PickleValuePtr> items);
  static PickleValuePtr Dict(bool ordered = false);
  static PickleValuePtr Tensor(torch::Tensor t);

  // kDict with a kString key: returns the value, or nullptr.
  PickleValuePtr Get(std::string_view key) const;
  // kDict: appends (or replaces) a string-keyed entry.
  void Set(std::string key, PickleValuePtr value);
  bool IsString() const { return kind == Kind::kString; }
  // A short description for error messages ("dict", "tensor", "object numpy.ndarray", ...).
  std::string TypeName() const;
};

// Resolves a persistent id (for torch: ('storage', type, key, location, numel)) to a value,
// usually a kTensor holding the storage as a 1-D tensor.
using PersistentLoadFn = std::function<absl::StatusOr<PickleValuePtr>(const PickleValuePtr&)>;

// Parses a pickle (protocols 0-5). Errors name the opcode and its offset. Parsing stops at the
// pickle's STOP opcode; when `consumed` is given it receives the bytes read up to and including
// it (torch's legacy format is several pickles back to back), otherwise trailing bytes are
// ignored as Python's pickle.loads does.
absl::StatusOr<PickleValuePtr> Unpickle(std::string_view data, const PersistentLoadFn& load,
                                        size_t* consumed = nullptr);

// Writes `value` as a protocol-2 pickle. Each kTensor becomes a torch._utils._rebuild_tensor_v2
// call whose storage is referenced through `storage_id(tensor)`, which returns the torch storage
// class name (e.g. "FloatStorage"), the storage key and the storage's element count.
struct StorageRef {
  std::string type_name;
  std::string key;
  int64_t numel;
};
using StorageIdFn = std::function<StorageRef(const torch::Tensor&)>;
// The protocol-2 pickle of `value`.
std::string Pickle(const PickleValue& value, const StorageIdFn& storage_id);

}  // namespace ann

#endif  // ANN_IO_PICKLE_H_
