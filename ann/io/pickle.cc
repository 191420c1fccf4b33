#include "ann/io/pickle.h"

#include <cstring>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ann {

using Kind = PickleValue::Kind;

namespace {

// Moves the children of `v` to `pending`.
void TakeChildren(PickleValue& v, std::vector<PickleValuePtr>& pending) {
  for (PickleValuePtr& item : v.items) pending.push_back(std::move(item));
  for (auto& [key, value] : v.entries) {
    pending.push_back(std::move(key));
    pending.push_back(std::move(value));
  }
  if (v.args) pending.push_back(std::move(v.args));
  if (v.state) pending.push_back(std::move(v.state));
  v.items.clear();
  v.entries.clear();
}

}  // namespace

PickleValue::~PickleValue() {
  if (items.empty() && entries.empty() && !args && !state) return;
  std::vector<PickleValuePtr> pending;
  TakeChildren(*this, pending);
  while (!pending.empty()) {
    PickleValuePtr value = std::move(pending.back());
    pending.pop_back();
    // The last owner empties it first, so its own destructor has nothing left to recurse into.
    if (value && value.use_count() == 1) TakeChildren(*value, pending);
  }
}

PickleValuePtr PickleValue::None() { return std::make_shared<PickleValue>(); }

PickleValuePtr PickleValue::Bool(bool v) {
  auto p = std::make_shared<PickleValue>();
  p->kind = Kind::kBool;
  p->boolean = v;
  return p;
}

PickleValuePtr PickleValue::Int(int64_t v) {
  auto p = std::make_shared<PickleValue>();
  p->kind = Kind::kInt;
  p->integer = v;
  return p;
}

PickleValuePtr PickleValue::Float(double v) {
  auto p = std::make_shared<PickleValue>();
  p->kind = Kind::kFloat;
  p->floating = v;
  return p;
}

PickleValuePtr PickleValue::String(std::string v) {
  auto p = std::make_shared<PickleValue>();
  p->kind = Kind::kString;
  p->text = std::move(v);
  return p;
}

PickleValuePtr PickleValue::Tuple(std::vector<PickleValuePtr> items) {
  auto p = std::make_shared<PickleValue>();
  p->kind = Kind::kTuple;
  p->items = std::move(items);
  return p;
}

PickleValuePtr PickleValue::List(std::vector<PickleValuePtr> items) {
  auto p = std::make_shared<PickleValue>();
  p->kind = Kind::kList;
  p->items = std::move(items);
  return p;
}

PickleValuePtr PickleValue::Dict(bool ordered) {
  auto p = std::make_shared<PickleValue>();
  p->kind = Kind::kDict;
  p->ordered = ordered;
  return p;
}

PickleValuePtr PickleValue::Tensor(torch::Tensor t) {
  auto p = std::make_shared<PickleValue>();
  p->kind = Kind::kTensor;
  p->tensor = std::move(t);
  return p;
}

PickleValuePtr PickleValue::Get(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k->kind == Kind::kString && k->text == key) return v;
  }
  return nullptr;
}

void PickleValue::Set(std::string key, PickleValuePtr value) {
  for (auto& [k, v] : entries) {
    if (k->kind == Kind::kString && k->text == key) {
      v = std::move(value);
      return;
    }
  }
  entries.emplace_back(String(std::move(key)), std::move(value));
}

std::string PickleValue::TypeName() const {
  switch (kind) {
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
    case Kind::kBigInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kBytes:
      return "bytes";
    case Kind::kTuple:
      return "tuple";
    case Kind::kList:
      return "list";
    case Kind::kDict:
      return ordered ? "OrderedDict" : "dict";
    case Kind::kTensor:
      return "tensor";
    case Kind::kGlobal:
      return absl::StrCat("global ", module, ".", name);
    case Kind::kObject:
      return absl::StrCat("object ", module, ".", name);
  }
  return "?";
}

namespace {

// ---------------------------------------------------------------------------------------------
// Reading.

class Unpickler {
 public:
  Unpickler(std::string_view data, const PersistentLoadFn& load) : data_(data), load_(load) {}

  absl::StatusOr<PickleValuePtr> Run() {
    while (true) {
      if (pos_ >= data_.size()) return Error("pickle ends before STOP (truncated?)");
      op_pos_ = pos_;
      const uint8_t op = static_cast<uint8_t>(data_[pos_++]);
      absl::Status status = Step(op);
      if (!status.ok()) return status;
      if (stopped_) break;
    }
    if (stack_.size() != 1) return Error("pickle leaves more than one value on the stack");
    return stack_.back();
  }

  size_t position() const { return pos_; }

 private:
  absl::Status Error(std::string_view what) const {
    return absl::DataLossError(absl::StrFormat("corrupt pickle at byte %d: %s", op_pos_, what));
  }

  bool Need(size_t n) const { return data_.size() - pos_ >= n; }

  absl::StatusOr<uint64_t> ReadLE(size_t n) {
    if (!Need(n)) return Error("unexpected end of data");
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i)
      v |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    pos_ += n;
    return v;
  }

  absl::StatusOr<std::string> ReadBytes(uint64_t n) {
    if (!Need(n)) return Error("unexpected end of data");
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
  }

  absl::StatusOr<std::string> ReadLine() {
    const size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos) return Error("unterminated text argument");
    std::string s(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  absl::StatusOr<PickleValuePtr> Pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) {
      return Error("stack underflow");
    }
    PickleValuePtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }

  absl::StatusOr<std::vector<PickleValuePtr>> PopMark() {
    if (marks_.empty()) return Error("no MARK on the stack");
    const size_t mark = marks_.back();
    marks_.pop_back();
    if (mark > stack_.size()) return Error("stack underflow below a MARK");
    std::vector<PickleValuePtr> items(stack_.begin() + mark, stack_.end());
    stack_.resize(mark);
    return items;
  }

  absl::StatusOr<PickleValuePtr> Top() {
    if (stack_.empty()) return Error("stack underflow");
    return stack_.back();
  }

  void Push(PickleValuePtr v) { stack_.push_back(std::move(v)); }

  static PickleValuePtr Global(std::string module, std::string name) {
    auto g = std::make_shared<PickleValue>();
    g->kind = Kind::kGlobal;
    g->module = std::move(module);
    g->name = std::move(name);
    return g;
  }

  absl::Status PushInt(const std::string& bytes) {
    // Little-endian two's complement (LONG1 / LONG4).
    if (bytes.size() > 8) {
      auto big = std::make_shared<PickleValue>();
      big->kind = Kind::kBigInt;
      big->text = bytes;
      Push(big);
      return absl::OkStatus();
    }
    uint64_t v = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
      v |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
    }
    if (!bytes.empty() && bytes.size() < 8 && (static_cast<uint8_t>(bytes.back()) & 0x80)) {
      v |= ~uint64_t{0} << (8 * bytes.size());
    }
    Push(PickleValue::Int(static_cast<int64_t>(v)));
    return absl::OkStatus();
  }

  absl::StatusOr<PickleValuePtr> RebuildTensor(const std::vector<PickleValuePtr>& args) {
    if (args.size() < 4 || args[0]->kind != Kind::kTensor || args[1]->kind != Kind::kInt ||
        args[2]->kind != Kind::kTuple || args[3]->kind != Kind::kTuple) {
      return Error("malformed tensor record");
    }
    const torch::Tensor& storage = args[0]->tensor;
    std::vector<int64_t> size, stride;
    for (const auto& s : args[2]->items) {
      if (s->kind != Kind::kInt || s->integer < 0) return Error("bad tensor size");
      size.push_back(s->integer);
    }
    for (const auto& s : args[3]->items) {
      if (s->kind != Kind::kInt || s->integer < 0) return Error("bad tensor stride");
      stride.push_back(s->integer);
    }
    if (size.size() != stride.size()) return Error("tensor size and stride differ in rank");
    const int64_t offset = args[1]->integer;
    // The last element the view reaches, computed without overflow: a corrupt file may hold any
    // size and stride.
    bool empty = false;
    for (int64_t s : size) empty = empty || s == 0;
    const int64_t numel = storage.numel();
    bool fits = offset >= 0 && (empty || offset < numel);
    int64_t last = offset;
    for (size_t i = 0; fits && !empty && i < size.size(); ++i) {
      const int64_t reach = size[i] - 1;
      if (reach > 0 && stride[i] > 0 && (stride[i] > (numel - 1 - last) / reach)) fits = false;
      if (fits) last += reach * stride[i];
    }
    if (!fits) {
      return Error(absl::StrCat("tensor view reaches past its storage (", numel, " elements)"));
    }
    // A storage may itself be a view into a larger one (legacy files): offsets are relative to it.
    return PickleValue::Tensor(storage.as_strided(size, stride, storage.storage_offset() + offset));
  }

  absl::StatusOr<PickleValuePtr> Call(const PickleValuePtr& callable, const PickleValuePtr& args) {
    if (callable->kind != Kind::kGlobal) return Error("call of a non-class value");
    if (args->kind != Kind::kTuple) return Error("call arguments are not a tuple");
    const std::string& m = callable->module;
    const std::string& n = callable->name;
    const auto& a = args->items;
    if (m == "collections" && n == "OrderedDict") {
      auto d = PickleValue::Dict(/*ordered=*/true);
      if (!a.empty() && (a[0]->kind == Kind::kList || a[0]->kind == Kind::kTuple)) {
        for (const auto& pair : a[0]->items) {
          if ((pair->kind != Kind::kTuple && pair->kind != Kind::kList) ||
              pair->items.size() != 2) {
            return Error("OrderedDict argument is not a list of pairs");
          }
          d->entries.emplace_back(pair->items[0], pair->items[1]);
        }
      }
      return d;
    }
    if (m == "torch._utils" && (n == "_rebuild_tensor_v2" || n == "_rebuild_tensor")) {
      return RebuildTensor(a);
    }
    if (m == "torch._utils" &&
        (n == "_rebuild_parameter" || n == "_rebuild_parameter_with_state")) {
      if (a.empty() || a[0]->kind != Kind::kTensor) return Error("malformed parameter record");
      return a[0];
    }
    if (m == "torch" && n == "Size") {
      if (a.size() != 1) return Error("malformed torch.Size");
      return a[0];
    }
    if (m == "_codecs" && n == "encode") {
      // Python 3 writes bytes in protocol 2 as _codecs.encode(latin1_text, 'latin1').
      if (a.empty() || a[0]->kind != Kind::kString) return Error("malformed bytes record");
      auto b = std::make_shared<PickleValue>();
      b->kind = Kind::kBytes;
      const std::string& u = a[0]->text;
      for (size_t i = 0; i < u.size(); ++i) {
        const uint8_t c = static_cast<uint8_t>(u[i]);
        if (c < 0x80) {
          b->text.push_back(static_cast<char>(c));
        } else if (i + 1 < u.size()) {  // two-byte UTF-8 sequence of a latin-1 code point
          b->text.push_back(static_cast<char>(((c & 0x1f) << 6) | (u[++i] & 0x3f)));
        }
      }
      return b;
    }
    if ((m == "builtins" || m == "__builtin__") &&
        (n == "set" || n == "frozenset" || n == "list")) {
      return PickleValue::List(a.empty() ? std::vector<PickleValuePtr>{} : a[0]->items);
    }
    if ((m == "numpy.core.multiarray" || m == "numpy._core.multiarray") && n == "scalar") {
      auto scalar = NumpyScalar(a);
      if (scalar) return scalar;
    }
    auto obj = std::make_shared<PickleValue>();
    obj->kind = Kind::kObject;
    obj->module = m;
    obj->name = n;
    obj->args = args;
    return obj;
  }

  // numpy scalars in mmcv's `meta` (e.g. hook messages): dtype object + raw bytes.
  static PickleValuePtr NumpyScalar(const std::vector<PickleValuePtr>& a) {
    if (a.size() != 2 || a[0]->kind != Kind::kObject || a[1]->kind != Kind::kBytes) return nullptr;
    const PickleValuePtr& dtype_args = a[0]->args;
    if (!dtype_args || dtype_args->items.empty() || !dtype_args->items[0]->IsString()) {
      return nullptr;
    }
    const std::string& code = dtype_args->items[0]->text;
    const std::string& raw = a[1]->text;
    auto read = [&](auto v) -> decltype(v) {
      std::memcpy(&v, raw.data(), sizeof(v));
      return v;
    };
    if (code == "f8" && raw.size() == 8) return PickleValue::Float(read(double{}));
    if (code == "f4" && raw.size() == 4) return PickleValue::Float(read(float{}));
    if (code == "i8" && raw.size() == 8) return PickleValue::Int(read(int64_t{}));
    if (code == "i4" && raw.size() == 4) return PickleValue::Int(read(int32_t{}));
    if (code == "u1" && raw.size() == 1) return PickleValue::Int(read(uint8_t{}));
    if (code == "b1" && raw.size() == 1) return PickleValue::Bool(read(uint8_t{}) != 0);
    return nullptr;
  }

  absl::Status SetItems(const PickleValuePtr& target, const std::vector<PickleValuePtr>& kv) {
    if (kv.size() % 2 != 0) return Error("odd number of items for SETITEMS");
    if (target->kind != Kind::kDict && target->kind != Kind::kObject) {
      return Error(absl::StrCat("SETITEMS on a ", target->TypeName()));
    }
    for (size_t i = 0; i < kv.size(); i += 2) {
      if (kv[i]->IsString()) {
        target->Set(kv[i]->text, kv[i + 1]);
      } else {
        target->entries.emplace_back(kv[i], kv[i + 1]);
      }
    }
    return absl::OkStatus();
  }

  absl::Status Appends(const PickleValuePtr& target, const std::vector<PickleValuePtr>& items) {
    if (target->kind != Kind::kList && target->kind != Kind::kObject) {
      return Error(absl::StrCat("APPENDS on a ", target->TypeName()));
    }
    target->items.insert(target->items.end(), items.begin(), items.end());
    return absl::OkStatus();
  }

  absl::Status Memoize(int64_t index) {
    auto top = Top();
    if (!top.ok()) return top.status();
    memo_[index] = *top;
    return absl::OkStatus();
  }

  absl::Status MemoGet(int64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return Error(absl::StrCat("memo key ", index, " is not defined"));
    Push(it->second);
    return absl::OkStatus();
  }

#define ANN_PICKLE_ASSIGN(lhs, expr)            \
  auto lhs##_or = (expr);                       \
  if (!lhs##_or.ok()) return lhs##_or.status(); \
  auto lhs = std::move(lhs##_or).value()

  absl::Status Step(uint8_t op) {
    switch (op) {
      case 0x80: {  // PROTO
        ANN_PICKLE_ASSIGN(v, ReadLE(1));
        if (v > 5) return Error(absl::StrCat("unsupported pickle protocol ", v));
        return absl::OkStatus();
      }
      case 0x95: {  // FRAME
        ANN_PICKLE_ASSIGN(v, ReadLE(8));
        (void)v;
        return absl::OkStatus();
      }
      case '.':  // STOP
        stopped_ = true;
        return absl::OkStatus();
      case '(':  // MARK
        marks_.push_back(stack_.size());
        return absl::OkStatus();
      case '0': {  // POP
        if (!marks_.empty() && marks_.back() == stack_.size()) {
          marks_.pop_back();
          return absl::OkStatus();
        }
        ANN_PICKLE_ASSIGN(v, Pop());
        (void)v;
        return absl::OkStatus();
      }
      case '1': {  // POP_MARK
        ANN_PICKLE_ASSIGN(v, PopMark());
        (void)v;
        return absl::OkStatus();
      }
      case '2': {  // DUP
        ANN_PICKLE_ASSIGN(v, Top());
        Push(v);
        return absl::OkStatus();
      }
      case 'N':
        Push(PickleValue::None());
        return absl::OkStatus();
      case 0x88:
        Push(PickleValue::Bool(true));
        return absl::OkStatus();
      case 0x89:
        Push(PickleValue::Bool(false));
        return absl::OkStatus();
      case 'J': {  // BININT
        ANN_PICKLE_ASSIGN(v, ReadLE(4));
        Push(PickleValue::Int(static_cast<int32_t>(static_cast<uint32_t>(v))));
        return absl::OkStatus();
      }
      case 'K': {  // BININT1
        ANN_PICKLE_ASSIGN(v, ReadLE(1));
        Push(PickleValue::Int(static_cast<int64_t>(v)));
        return absl::OkStatus();
      }
      case 'M': {  // BININT2
        ANN_PICKLE_ASSIGN(v, ReadLE(2));
        Push(PickleValue::Int(static_cast<int64_t>(v)));
        return absl::OkStatus();
      }
      case 0x8a: {  // LONG1
        ANN_PICKLE_ASSIGN(n, ReadLE(1));
        ANN_PICKLE_ASSIGN(bytes, ReadBytes(n));
        return PushInt(bytes);
      }
      case 0x8b: {  // LONG4
        ANN_PICKLE_ASSIGN(n, ReadLE(4));
        ANN_PICKLE_ASSIGN(bytes, ReadBytes(n));
        return PushInt(bytes);
      }
      case 'I':    // INT
      case 'L': {  // LONG
        ANN_PICKLE_ASSIGN(line, ReadLine());
        if (op == 'L' && !line.empty() && line.back() == 'L') line.pop_back();
        if (op == 'I' && line == "00") {
          Push(PickleValue::Bool(false));
        } else if (op == 'I' && line == "01") {
          Push(PickleValue::Bool(true));
        } else {
          int64_t v;
          if (!absl::SimpleAtoi(line, &v)) return Error("bad integer literal");
          Push(PickleValue::Int(v));
        }
        return absl::OkStatus();
      }
      case 'G': {  // BINFLOAT (big-endian)
        ANN_PICKLE_ASSIGN(bytes, ReadBytes(8));
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<uint8_t>(bytes[i]);
        double d;
        std::memcpy(&d, &bits, 8);
        Push(PickleValue::Float(d));
        return absl::OkStatus();
      }
      case 'F': {  // FLOAT
        ANN_PICKLE_ASSIGN(line, ReadLine());
        double d;
        if (!absl::SimpleAtod(line, &d)) return Error("bad float literal");
        Push(PickleValue::Float(d));
        return absl::OkStatus();
      }
      case 'X':     // BINUNICODE
      case 0x8c:    // SHORT_BINUNICODE
      case 0x8d:    // BINUNICODE8
      case 'T':     // BINSTRING
      case 'U':     // SHORT_BINSTRING
      case 'B':     // BINBYTES
      case 'C':     // SHORT_BINBYTES
      case 0x8e:    // BINBYTES8
      case 0x96: {  // BYTEARRAY8
        const size_t width = (op == 0x8c || op == 'U' || op == 'C')     ? 1
                             : (op == 0x8d || op == 0x8e || op == 0x96) ? 8
                                                                        : 4;
        ANN_PICKLE_ASSIGN(n, ReadLE(width));
        ANN_PICKLE_ASSIGN(bytes, ReadBytes(n));
        auto v = PickleValue::String(std::move(bytes));
        if (op == 'B' || op == 'C' || op == 0x8e || op == 0x96) v->kind = Kind::kBytes;
        Push(v);
        return absl::OkStatus();
      }
      case 'S':    // STRING (quoted)
      case 'V': {  // UNICODE (raw-unicode-escape; ASCII in practice)
        ANN_PICKLE_ASSIGN(line, ReadLine());
        if (op == 'S' && line.size() >= 2 && (line.front() == '\'' || line.front() == '"')) {
          line = line.substr(1, line.size() - 2);
        }
        Push(PickleValue::String(std::move(line)));
        return absl::OkStatus();
      }
      case ')':
        Push(PickleValue::Tuple({}));
        return absl::OkStatus();
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        const size_t n = op - 0x84;
        // As in Python, whose MARK starts a new stack: items below the last mark are not there.
        const size_t floor = marks_.empty() ? 0 : marks_.back();
        if (stack_.size() < floor + n) return Error("stack underflow");
        std::vector<PickleValuePtr> items(stack_.end() - n, stack_.end());
        stack_.resize(stack_.size() - n);
        Push(PickleValue::Tuple(std::move(items)));
        return absl::OkStatus();
      }
      case 't': {  // TUPLE
        ANN_PICKLE_ASSIGN(items, PopMark());
        Push(PickleValue::Tuple(std::move(items)));
        return absl::OkStatus();
      }
      case ']':
        Push(PickleValue::List({}));
        return absl::OkStatus();
      case 'l': {  // LIST
        ANN_PICKLE_ASSIGN(items, PopMark());
        Push(PickleValue::List(std::move(items)));
        return absl::OkStatus();
      }
      case 0x8f:  // EMPTY_SET
        Push(PickleValue::List({}));
        return absl::OkStatus();
      case 0x91: {  // FROZENSET
        ANN_PICKLE_ASSIGN(items, PopMark());
        Push(PickleValue::List(std::move(items)));
        return absl::OkStatus();
      }
      case 0x90: {  // ADDITEMS
        ANN_PICKLE_ASSIGN(items, PopMark());
        ANN_PICKLE_ASSIGN(target, Top());
        return Appends(target, items);
      }
      case 'a': {  // APPEND
        ANN_PICKLE_ASSIGN(v, Pop());
        ANN_PICKLE_ASSIGN(target, Top());
        return Appends(target, {v});
      }
      case 'e': {  // APPENDS
        ANN_PICKLE_ASSIGN(items, PopMark());
        ANN_PICKLE_ASSIGN(target, Top());
        return Appends(target, items);
      }
      case '}':
        Push(PickleValue::Dict());
        return absl::OkStatus();
      case 'd': {  // DICT
        ANN_PICKLE_ASSIGN(items, PopMark());
        auto d = PickleValue::Dict();
        absl::Status status = SetItems(d, items);
        if (!status.ok()) return status;
        Push(d);
        return absl::OkStatus();
      }
      case 's': {  // SETITEM
        ANN_PICKLE_ASSIGN(value, Pop());
        ANN_PICKLE_ASSIGN(key, Pop());
        ANN_PICKLE_ASSIGN(target, Top());
        return SetItems(target, {key, value});
      }
      case 'u': {  // SETITEMS
        ANN_PICKLE_ASSIGN(items, PopMark());
        ANN_PICKLE_ASSIGN(target, Top());
        return SetItems(target, items);
      }
      case 'c': {  // GLOBAL
        ANN_PICKLE_ASSIGN(module, ReadLine());
        ANN_PICKLE_ASSIGN(name, ReadLine());
        Push(Global(std::move(module), std::move(name)));
        return absl::OkStatus();
      }
      case 0x93: {  // STACK_GLOBAL
        ANN_PICKLE_ASSIGN(name, Pop());
        ANN_PICKLE_ASSIGN(module, Pop());
        if (!name->IsString() || !module->IsString()) return Error("STACK_GLOBAL needs strings");
        Push(Global(module->text, name->text));
        return absl::OkStatus();
      }
      case 'R': {  // REDUCE
        ANN_PICKLE_ASSIGN(args, Pop());
        ANN_PICKLE_ASSIGN(callable, Pop());
        ANN_PICKLE_ASSIGN(result, Call(callable, args));
        Push(result);
        return absl::OkStatus();
      }
      case 0x81: {  // NEWOBJ
        ANN_PICKLE_ASSIGN(args, Pop());
        ANN_PICKLE_ASSIGN(cls, Pop());
        ANN_PICKLE_ASSIGN(result, Call(cls, args));
        Push(result);
        return absl::OkStatus();
      }
      case 0x92: {  // NEWOBJ_EX
        ANN_PICKLE_ASSIGN(kwargs, Pop());
        (void)kwargs;
        ANN_PICKLE_ASSIGN(args, Pop());
        ANN_PICKLE_ASSIGN(cls, Pop());
        ANN_PICKLE_ASSIGN(result, Call(cls, args));
        Push(result);
        return absl::OkStatus();
      }
      case 'b': {  // BUILD
        ANN_PICKLE_ASSIGN(state, Pop());
        ANN_PICKLE_ASSIGN(target, Top());
        // An OrderedDict's state is its attributes (a state_dict's `_metadata`): not needed.
        if (target->kind == Kind::kObject) target->state = state;
        return absl::OkStatus();
      }
      case 'Q': {  // BINPERSID
        ANN_PICKLE_ASSIGN(pid, Pop());
        if (!load_) return Error("persistent id without a loader");
        ANN_PICKLE_ASSIGN(value, load_(pid));
        Push(value);
        return absl::OkStatus();
      }
      case 'P': {  // PERSID
        ANN_PICKLE_ASSIGN(line, ReadLine());
        if (!load_) return Error("persistent id without a loader");
        ANN_PICKLE_ASSIGN(value, load_(PickleValue::String(line)));
        Push(value);
        return absl::OkStatus();
      }
      case 'q': {  // BINPUT
        ANN_PICKLE_ASSIGN(i, ReadLE(1));
        return Memoize(static_cast<int64_t>(i));
      }
      case 'r': {  // LONG_BINPUT
        ANN_PICKLE_ASSIGN(i, ReadLE(4));
        return Memoize(static_cast<int64_t>(i));
      }
      case 'p': {  // PUT
        ANN_PICKLE_ASSIGN(line, ReadLine());
        int64_t i;
        if (!absl::SimpleAtoi(line, &i)) return Error("bad memo index");
        return Memoize(i);
      }
      case 0x94:  // MEMOIZE
        return Memoize(static_cast<int64_t>(memo_.size()));
      case 'h': {  // BINGET
        ANN_PICKLE_ASSIGN(i, ReadLE(1));
        return MemoGet(static_cast<int64_t>(i));
      }
      case 'j': {  // LONG_BINGET
        ANN_PICKLE_ASSIGN(i, ReadLE(4));
        return MemoGet(static_cast<int64_t>(i));
      }
      case 'g': {  // GET
        ANN_PICKLE_ASSIGN(line, ReadLine());
        int64_t i;
        if (!absl::SimpleAtoi(line, &i)) return Error("bad memo index");
        return MemoGet(i);
      }
      default:
        return Error(absl::StrFormat("unknown opcode 0x%02x", op));
    }
  }
#undef ANN_PICKLE_ASSIGN

  std::string_view data_;
  const PersistentLoadFn& load_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  bool stopped_ = false;
  std::vector<PickleValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<int64_t, PickleValuePtr> memo_;
};

// ---------------------------------------------------------------------------------------------
// Writing (protocol 2, what torch.save uses by default).

class Pickler {
 public:
  explicit Pickler(const StorageIdFn& storage_id) : storage_id_(storage_id) {}

  std::string Run(const PickleValue& value) {
    out_.push_back(static_cast<char>(0x80));
    out_.push_back(2);
    Write(value);
    out_.push_back('.');
    return std::move(out_);
  }

 private:
  void Op(char op) { out_.push_back(op); }

  void LE(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }

  void Unicode(const std::string& s) {
    Op('X');
    LE(s.size(), 4);
    out_ += s;
  }

  void Global(const std::string& module, const std::string& name) {
    Op('c');
    out_ += module + "\n" + name + "\n";
  }

  void Int(int64_t v) {
    if (v >= 0 && v < 256) {
      Op('K');
      LE(static_cast<uint64_t>(v), 1);
    } else if (v >= 0 && v < 65536) {
      Op('M');
      LE(static_cast<uint64_t>(v), 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      Op('J');
      LE(static_cast<uint32_t>(static_cast<int32_t>(v)), 4);
    } else {
      Op(static_cast<char>(0x8a));  // LONG1, minimal two's complement
      std::string bytes;
      uint64_t u = static_cast<uint64_t>(v);
      for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
      while (bytes.size() > 1) {
        const uint8_t last = static_cast<uint8_t>(bytes.back());
        const uint8_t prev = static_cast<uint8_t>(bytes[bytes.size() - 2]);
        if ((last == 0x00 && !(prev & 0x80)) || (last == 0xff && (prev & 0x80))) {
          bytes.pop_back();
        } else {
          break;
        }
      }
      LE(bytes.size(), 1);
      out_ += bytes;
    }
  }

  void IntTuple(c10::IntArrayRef values) {
    std::vector<PickleValuePtr> items;
    for (int64_t v : values) items.push_back(PickleValue::Int(v));
    Write(*PickleValue::Tuple(std::move(items)));
  }

  void EmptyOrderedDict() {
    Global("collections", "OrderedDict");
    Op(')');
    Op('R');
  }

  void Write(const PickleValue& v) {
    switch (v.kind) {
      case Kind::kNone:
        Op('N');
        return;
      case Kind::kBool:
        Op(static_cast<char>(v.boolean ? 0x88 : 0x89));
        return;
      case Kind::kInt:
        Int(v.integer);
        return;
      case Kind::kBigInt:
        if (v.text.size() < 256) {
          Op(static_cast<char>(0x8a));  // LONG1
          LE(v.text.size(), 1);
        } else {
          Op(static_cast<char>(0x8b));  // LONG4
          LE(v.text.size(), 4);
        }
        out_ += v.text;
        return;
      case Kind::kFloat: {
        Op('G');
        uint64_t bits;
        std::memcpy(&bits, &v.floating, 8);
        for (int i = 7; i >= 0; --i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
        return;
      }
      case Kind::kString:
        Unicode(v.text);
        return;
      case Kind::kBytes: {
        // Protocol 2 has no bytes opcode; Python 3 itself writes _codecs.encode(latin1, 'latin1').
        std::string latin1;
        for (unsigned char c : v.text) {
          if (c < 0x80) {
            latin1.push_back(static_cast<char>(c));
          } else {
            latin1.push_back(static_cast<char>(0xc0 | (c >> 6)));
            latin1.push_back(static_cast<char>(0x80 | (c & 0x3f)));
          }
        }
        Global("_codecs", "encode");
        Unicode(latin1);
        Unicode("latin1");
        Op(static_cast<char>(0x86));
        Op('R');
        return;
      }
      case Kind::kTuple:
        if (v.items.empty()) {
          Op(')');
        } else if (v.items.size() <= 3) {
          for (const auto& item : v.items) Write(*item);
          Op(static_cast<char>(0x84 + v.items.size()));
        } else {
          Op('(');
          for (const auto& item : v.items) Write(*item);
          Op('t');
        }
        return;
      case Kind::kList:
        Op(']');
        for (size_t i = 0; i < v.items.size(); i += 1000) {
          Op('(');
          for (size_t j = i; j < std::min(v.items.size(), i + 1000); ++j) Write(*v.items[j]);
          Op('e');
        }
        return;
      case Kind::kDict:
        if (v.ordered) {
          EmptyOrderedDict();
        } else {
          Op('}');
        }
        for (size_t i = 0; i < v.entries.size(); i += 1000) {
          Op('(');
          for (size_t j = i; j < std::min(v.entries.size(), i + 1000); ++j) {
            Write(*v.entries[j].first);
            Write(*v.entries[j].second);
          }
          Op('u');
        }
        return;
      case Kind::kTensor: {
        const StorageRef ref = storage_id_(v.tensor);
        Global("torch._utils", "_rebuild_tensor_v2");
        Op('(');
        Op('(');
        Unicode("storage");
        Global("torch", ref.type_name);
        Unicode(ref.key);
        Unicode("cpu");
        Int(ref.numel);
        Op('t');
        Op('Q');
        Int(v.tensor.storage_offset());
        IntTuple(v.tensor.sizes());
        IntTuple(v.tensor.strides());
        Op(static_cast<char>(0x89));  // requires_grad = False
        EmptyOrderedDict();           // backward hooks
        Op('t');
        Op('R');
        return;
      }
      case Kind::kGlobal:
        Global(v.module, v.name);
        return;
      case Kind::kObject:
        Global(v.module, v.name);
        Write(v.args ? *v.args : *PickleValue::Tuple({}));
        Op('R');
        if (v.state) {
          Write(*v.state);
          Op('b');
        }
        return;
    }
  }

  const StorageIdFn& storage_id_;
  std::string out_;
};

}  // namespace

absl::StatusOr<PickleValuePtr> Unpickle(std::string_view data, const PersistentLoadFn& load,
                                        size_t* consumed) {
  Unpickler unpickler(data, load);
  absl::StatusOr<PickleValuePtr> value = unpickler.Run();
  if (value.ok() && consumed != nullptr) *consumed = unpickler.position();
  return value;
}

std::string Pickle(const PickleValue& value, const StorageIdFn& storage_id) {
  return Pickler(storage_id).Run(value);
}

}  // namespace ann
