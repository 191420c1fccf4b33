#include "ann/io/pickle.h"

#include <map>
#include <string>

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

using Kind = PickleValue::Kind;

std::string FromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Python 3.11: pickle.dumps(OrderedDict([('a', 1), ('b', [1.5, None, True, (1, 2, 3, 4)]),
//   ('c', {'only': -70000}), ('d', 2**40), ('e', -3), ('f', b'\x00\xffab'), ('g', (7,))]),
//   protocol=P) for P = 2 (torch.save's) and 4.
const char* kProtocol2 =
    "800263636f6c6c656374696f6e730a4f726465726564446963740a710029527101285801000000617102"
    "4b0158010000006271035d710428473ff80000000000004e88284b014b024b034b047471056558010000"
    "006371067d710758040000006f6e6c7971084a90eefeff7358010000006471098a060000000000015801"
    "00000065710a4afdffffff580100000066710b635f636f646563730a656e636f64650a710c5805000000"
    "00c3bf6162710d58060000006c6174696e31710e86710f52711058010000006771114b07857112752e";
const char* kProtocol4 =
    "80049583000000000000008c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294"
    "288c0161944b018c0162945d9428473ff80000000000004e88284b014b024b034b047494658c016394"
    "7d948c046f6e6c79944a90eefeff738c0164948a060000000000018c0165944afdffffff8c01669443"
    "0400ff6162948c0167944b078594752e";

void ExpectPythonValue(const PickleValue& v) {
  ASSERT_EQ(v.kind, Kind::kDict);
  EXPECT_TRUE(v.ordered);
  ASSERT_EQ(v.entries.size(), 7u);
  EXPECT_EQ(v.entries[0].first->text, "a");
  EXPECT_EQ(v.Get("a")->integer, 1);
  const PickleValuePtr b = v.Get("b");
  ASSERT_EQ(b->kind, Kind::kList);
  ASSERT_EQ(b->items.size(), 4u);
  EXPECT_DOUBLE_EQ(b->items[0]->floating, 1.5);
  EXPECT_EQ(b->items[1]->kind, Kind::kNone);
  EXPECT_TRUE(b->items[2]->boolean);
  ASSERT_EQ(b->items[3]->kind, Kind::kTuple);
  EXPECT_EQ(b->items[3]->items[3]->integer, 4);
  const PickleValuePtr c = v.Get("c");
  ASSERT_EQ(c->kind, Kind::kDict);
  ASSERT_EQ(c->entries.size(), 1u);  // one-entry dicts: torch::pickle_load fails on these
  EXPECT_EQ(c->Get("only")->integer, -70000);
  EXPECT_EQ(v.Get("d")->integer, int64_t{1} << 40);
  EXPECT_EQ(v.Get("e")->integer, -3);
  ASSERT_EQ(v.Get("f")->kind, Kind::kBytes);
  EXPECT_EQ(v.Get("f")->text, std::string("\x00\xff"
                                          "ab",
                                          4));
  ASSERT_EQ(v.Get("g")->kind, Kind::kTuple);
  EXPECT_EQ(v.Get("g")->items.size(), 1u);
}

TEST(PickleTest, ReadsPythonProtocol2) {
  auto v = Unpickle(FromHex(kProtocol2), nullptr);
  ASSERT_TRUE(v.ok()) << v.status();
  ExpectPythonValue(**v);
}

TEST(PickleTest, ReadsPythonProtocol4) {
  auto v = Unpickle(FromHex(kProtocol4), nullptr);
  ASSERT_TRUE(v.ok()) << v.status();
  ExpectPythonValue(**v);
}

TEST(PickleTest, WriterRoundTripsPythonValue) {
  auto v = Unpickle(FromHex(kProtocol2), nullptr);
  ASSERT_TRUE(v.ok());
  const std::string again = Pickle(**v, nullptr);
  auto w = Unpickle(again, nullptr);
  ASSERT_TRUE(w.ok()) << w.status();
  ExpectPythonValue(**w);
}

TEST(PickleTest, IntegersAtEncodingBoundaries) {
  const std::vector<int64_t> values = {0,
                                       255,
                                       256,
                                       65535,
                                       65536,
                                       -1,
                                       INT32_MAX,
                                       INT32_MIN,
                                       int64_t{INT32_MAX} + 1,
                                       int64_t{INT32_MIN} - 1,
                                       INT64_MAX,
                                       INT64_MIN,
                                       -128,
                                       -129};
  std::vector<PickleValuePtr> items;
  for (int64_t x : values) items.push_back(PickleValue::Int(x));
  auto back = Unpickle(Pickle(*PickleValue::List(items), nullptr), nullptr);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ((*back)->items.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ((*back)->items[i]->integer, values[i]);
}

TEST(PickleTest, TensorsGoThroughPersistentIds) {
  torch::Tensor base = torch::arange(12, torch::kFloat32);
  torch::Tensor view = base.view({3, 4}).t();  // non-contiguous view of a shared storage
  auto root = PickleValue::Dict(true);
  root->Set("base", PickleValue::Tensor(base));
  root->Set("view", PickleValue::Tensor(view));
  std::map<const void*, std::string> keys;
  const std::string bytes = Pickle(*root, [&](const torch::Tensor& t) {
    auto [it, inserted] = keys.emplace(t.storage().data(), std::to_string(keys.size()));
    return StorageRef{"FloatStorage", it->second, static_cast<int64_t>(t.storage().nbytes() / 4)};
  });
  EXPECT_EQ(keys.size(), 1u);
  int loads = 0;
  auto back = Unpickle(bytes, [&](const PickleValuePtr& pid) -> absl::StatusOr<PickleValuePtr> {
    ++loads;
    EXPECT_EQ(pid->items[0]->text, "storage");
    EXPECT_EQ(pid->items[1]->name, "FloatStorage");
    EXPECT_EQ(pid->items[2]->text, "0");
    EXPECT_EQ(pid->items[4]->integer, 12);
    return PickleValue::Tensor(base);
  });
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(loads, 2);
  torch::Tensor got = (*back)->Get("view")->tensor;
  EXPECT_EQ(got.sizes(), torch::IntArrayRef({4, 3}));
  EXPECT_TRUE(torch::equal(got, view));
}

TEST(PickleTest, TruncatedAndCorruptInputsAreErrors) {
  const std::string good = FromHex(kProtocol2);
  for (size_t cut : {size_t{0}, size_t{1}, size_t{10}, good.size() / 2, good.size() - 1}) {
    auto v = Unpickle(good.substr(0, cut), nullptr);
    EXPECT_FALSE(v.ok()) << "cut at " << cut;
  }
  std::string bad = good;
  bad[40] = static_cast<char>(0xfe);  // not an opcode
  EXPECT_FALSE(Unpickle(bad, nullptr).ok());
  EXPECT_FALSE(Unpickle(std::string("\x80\x02h\x05.", 5), nullptr).ok());  // undefined memo
}

// Found by the fuzzer: TUPLE2 right after a MARK took items from below the mark, and the TUPLE
// that closed the mark then read past the stack. Python's pickle refuses both (a MARK starts a
// new stack); so do we. `1 2 MARK TUPLE2 TUPLE` and `1 2 MARK 3 TUPLE2 TUPLE`.
TEST(PickleTest, TupleOpcodesDoNotReachBelowAMark) {
  EXPECT_FALSE(Unpickle(std::string("\x80\x02K\x01K\x02(\x86t.", 11), nullptr).ok());
  EXPECT_FALSE(Unpickle(std::string("\x80\x02K\x01K\x02(K\x03\x86t.", 13), nullptr).ok());
  // Within the mark they work: `MARK 2 3 TUPLE2 TUPLE` is ((2, 3),).
  auto ok = Unpickle(std::string("\x80\x02(K\x02K\x03\x86t.", 11), nullptr);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)->kind, Kind::kTuple);
  ASSERT_EQ((*ok)->items.size(), 1u);
  EXPECT_EQ((*ok)->items[0]->items.size(), 2u);
}

TEST(PickleTest, UnknownClassesBecomeObjects) {
  // c__main__\nThing\n ) R } b .  -> Thing() with state {}
  auto v = Unpickle(std::string("\x80\x02"
                                "c__main__\nThing\n)R}b.",
                                23),
                    nullptr);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ((*v)->kind, Kind::kObject);
  EXPECT_EQ((*v)->TypeName(), "object __main__.Thing");
}

// 300,000 nested lists (`]` x N, then `a` x N-1): parsed and torn down without recursion.
TEST(PickleTest, DeepNestingDoesNotOverflowTheStack) {
  const int depth = 300000;
  std::string data = "\x80\x02";
  data.append(depth, ']');
  data.append(depth - 1, 'a');
  data += '.';
  auto value = Unpickle(data, nullptr);
  ASSERT_TRUE(value.ok()) << value.status();
  int levels = 1;
  for (const PickleValue* v = value->get(); !v->items.empty(); v = v->items[0].get()) ++levels;
  EXPECT_EQ(levels, depth);
}

}  // namespace
}  // namespace ann
