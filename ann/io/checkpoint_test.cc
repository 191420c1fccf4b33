#include "ann/io/checkpoint.h"

#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ann/io/torch_file.h"
#include "ann/model/segmentor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"
#include "torch/torch.h"

namespace ann {
namespace {

using ::ann::testing::MakeTempDir;
using ::ann::testing::RunPython;
using ::testing::HasSubstr;

ModelConfig SmallConfig(Variant variant = Variant::kMmseg) {
  ModelConfig config = DefaultModelConfig(variant);
  config.depth = 18;
  config.num_classes = 5;
  return config;
}

// Random weights and BN statistics, so a load that silently skipped anything would show.
void Randomise(torch::nn::Module& module, int seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : ModuleStateDict(module)) {
    if (t.is_floating_point()) {
      t.uniform_(0.5, 1.5);
    } else {
      t.fill_(seed + 3);
    }
  }
}

// Random weights that keep activations finite (He-scaled convolutions, BN statistics near the
// identity), so that logits can be compared.
void RandomiseForInference(torch::nn::Module& module, int seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : ModuleStateDict(module)) {
    if (!t.is_floating_point()) {
      t.fill_(seed);
    } else if (t.dim() == 4) {
      t.normal_(0, std::sqrt(2.0 / (t.size(1) * t.size(2) * t.size(3))));
    } else if (absl::EndsWith(name, "running_var") || absl::EndsWith(name, ".weight")) {
      t.uniform_(0.75, 1.25);
    } else {
      t.uniform_(-0.1, 0.1);
    }
  }
}

void ExpectSameState(const torch::nn::Module& a, const torch::nn::Module& b) {
  StateDict sa = ModuleStateDict(a), sb = ModuleStateDict(b);
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].first, sb[i].first);
    EXPECT_TRUE(torch::equal(sa[i].second, sb[i].second)) << sa[i].first;
  }
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CheckpointTest, StateDictOrderFollowsPython) {
  EncoderDecoder model(SmallConfig());
  StateDict sd = ModuleStateDict(*model);
  ASSERT_FALSE(sd.empty());
  EXPECT_EQ(sd[0].first, "backbone.stem.0.weight");
  EXPECT_EQ(sd[1].first, "backbone.stem.1.weight");
  EXPECT_EQ(sd[3].first, "backbone.stem.1.running_mean");
  EXPECT_EQ(sd[5].first, "backbone.stem.1.num_batches_tracked");
}

TEST(CheckpointTest, CppRoundTrip) {
  const std::string dir = MakeTempDir("cpp_round_trip");
  EncoderDecoder a(SmallConfig());
  Randomise(*a, 1);
  auto meta = PickleValue::Dict();
  meta->Set("iter", PickleValue::Int(123));
  ASSERT_TRUE(SaveCheckpoint(dir + "/a.pth", *a, meta).ok());
  EncoderDecoder b(SmallConfig());
  auto report = LoadCheckpoint(dir + "/a.pth", *b, LoadMode::kStrict);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->clean());
  ExpectSameState(*a, *b);
  auto root = ReadTorchFile(dir + "/a.pth");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ((*root)->Get("meta")->Get("iter")->integer, 123);
}

TEST(CheckpointTest, PythonReadsOurCheckpointAndWeReadItsResave) {
  const std::string dir = MakeTempDir("py_round_trip");
  ModelConfig config = SmallConfig();
  EncoderDecoder a(config);
  Randomise(*a, 2);
  auto meta = PickleValue::Dict();
  meta->Set("config", PickleValue::String("--depth=18"));
  meta->Set("CLASSES", PickleValue::Tuple({PickleValue::String("road")}));
  ASSERT_TRUE(SaveCheckpoint(dir + "/cpp.pth", *a, meta).ok());

  std::string out;
  ASSERT_EQ(RunPython("checkpoint_tool.py", "inspect " + dir + "/cpp.pth", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("\"top_keys\": [\"meta\", \"state_dict\"]"));
  EXPECT_THAT(out, HasSubstr("\"state_dict_type\": \"OrderedDict\""));
  EXPECT_THAT(out, HasSubstr("\"first_key\": \"backbone.stem.0.weight\""));
  EXPECT_THAT(out, HasSubstr("\"shared_key_query\": true"));
  EXPECT_THAT(out, HasSubstr("\"config\": \"--depth=18\""));
  EXPECT_THAT(out, HasSubstr("\"num_keys\": " + std::to_string(ModuleStateDict(*a).size())));

  ASSERT_EQ(RunPython("checkpoint_tool.py", "resave " + dir + "/cpp.pth " + dir + "/py.pth", &out),
            0)
      << out;
  EncoderDecoder b(config);
  auto report = LoadCheckpoint(dir + "/py.pth", *b, LoadMode::kStrict);
  ASSERT_TRUE(report.ok()) << report.status();
  ExpectSameState(*a, *b);
  auto root = ReadTorchFile(dir + "/py.pth");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ((*root)->Get("meta")->Get("resaved_by")->text, "python");
  EXPECT_DOUBLE_EQ((*root)->Get("meta")->Get("score")->floating, 0.5);  // numpy.float64
  EXPECT_EQ((*root)->Get("optimizer")->kind, PickleValue::Kind::kDict);
}

// What checkpoint_tool.py's `dtypes` wrote, read back in either format.
void ExpectDtypesFile(const PickleValue& r) {
  EXPECT_EQ(r.Get("one")->Get("only")->tensor.scalar_type(), torch::kUInt8);
  const PickleValuePtr list = r.Get("list");
  ASSERT_EQ(list->items.size(), 5u);
  EXPECT_DOUBLE_EQ(list->items[1]->floating, 2.5);
  EXPECT_EQ(list->items[2]->kind, PickleValue::Kind::kNone);
  EXPECT_EQ(list->items[3]->text, "text");
  EXPECT_EQ(list->items[4]->items[1]->integer, 4);
  EXPECT_FALSE(r.Get("tuple")->items[1]->boolean);
  EXPECT_EQ(r.Get("big")->integer, int64_t{1} << 62);
  EXPECT_EQ(r.Get("neg")->integer, -5);
  const PickleValuePtr t = r.Get("tensors");
  EXPECT_TRUE(t->ordered);
  auto f32 = t->Get("f32")->tensor;
  EXPECT_TRUE(torch::allclose(f32, torch::linspace(-1, 1, 6).view({2, 3})));
  auto f16 = t->Get("f16")->tensor;
  EXPECT_EQ(f16.scalar_type(), torch::kFloat16);
  EXPECT_EQ(f16[2].item<float>(), 65504.0f);
  auto bf16 = t->Get("bf16")->tensor;
  EXPECT_EQ(bf16.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(bf16[2].item<float>(), 256.0f);
  auto f64 = t->Get("f64")->tensor;
  EXPECT_EQ(f64.scalar_type(), torch::kFloat64);
  EXPECT_DOUBLE_EQ(f64[0][1].item<double>(), 3.141592653589793);
  EXPECT_EQ(t->Get("i64")->tensor[0].item<int64_t>(), -(int64_t{1} << 40));
  EXPECT_EQ(t->Get("u8")->tensor[2].item<int>(), 255);
  EXPECT_EQ(t->Get("scalar")->tensor.dim(), 0);
  EXPECT_EQ(t->Get("scalar")->tensor.item<int64_t>(), 42);
  torch::Tensor base = t->Get("base")->tensor;
  torch::Tensor slice = t->Get("slice")->tensor;
  torch::Tensor transposed = t->Get("transposed")->tensor;
  EXPECT_TRUE(torch::equal(slice, torch::arange(5, 15, torch::kFloat32)));
  EXPECT_TRUE(torch::equal(transposed, torch::arange(24, torch::kFloat32).view({4, 6}).t()));
  EXPECT_EQ(slice.storage().data(), base.storage().data());  // still one shared storage
  EXPECT_EQ(t->Get("empty")->tensor.sizes(), torch::IntArrayRef({0, 3}));
}

TEST(CheckpointTest, ReadsEveryDtypeViewAndNesting) {
  const std::string dir = MakeTempDir("dtypes");
  std::string out;
  ASSERT_EQ(RunPython("checkpoint_tool.py", "dtypes " + dir + "/d.pth", &out), 0) << out;
  auto root = ReadTorchFile(dir + "/d.pth");
  ASSERT_TRUE(root.ok()) << root.status();
  ExpectDtypesFile(**root);
}

TEST(CheckpointTest, LegacyFormatReadsEveryDtypeViewAndNesting) {
  const std::string dir = MakeTempDir("dtypes_legacy");
  std::string out;
  ASSERT_EQ(RunPython("checkpoint_tool.py", "dtypes " + dir + "/d.pth --legacy", &out), 0) << out;
  ASSERT_NE(Slurp(dir + "/d.pth").substr(0, 2), "PK");  // really the legacy format
  auto root = ReadTorchFile(dir + "/d.pth");
  ASSERT_TRUE(root.ok()) << root.status();
  ExpectDtypesFile(**root);
}

// Old PyTorch's own layout, written field by field: a storage view (view_metadata), the
// pre-0.4 _rebuild_tensor, torch.cuda.FloatStorage on 'cuda:0'. Python's torch.load of the same
// file, re-saved as zip, is the expectation.
TEST(CheckpointTest, LegacyStorageViewsAndOldRebuildMatchTorchLoad) {
  const std::string dir = MakeTempDir("handmade");
  std::string out;
  ASSERT_EQ(RunPython("checkpoint_tool.py",
                      "legacy_handmade " + dir + "/old.pth " + dir + "/expected.pth", &out),
            0)
      << out;
  auto got = ReadTorchFile(dir + "/old.pth");
  ASSERT_TRUE(got.ok()) << got.status();
  auto expected = ReadTorchFile(dir + "/expected.pth");
  ASSERT_TRUE(expected.ok()) << expected.status();
  ASSERT_EQ((*got)->entries.size(), 5u);
  for (const char* key : {"whole", "in_view", "view_again", "old_rebuild", "longs"}) {
    const torch::Tensor a = (*got)->Get(key)->tensor, b = (*expected)->Get(key)->tensor;
    EXPECT_EQ(a.scalar_type(), b.scalar_type()) << key;
    EXPECT_EQ(a.sizes(), b.sizes()) << key;
    EXPECT_EQ(a.strides(), b.strides()) << key;
    EXPECT_TRUE(torch::equal(a, b)) << key;
  }
  // The view and the whole storage are one buffer, as in Python.
  const torch::Tensor whole = (*got)->Get("whole")->tensor;
  const torch::Tensor in_view = (*got)->Get("in_view")->tensor;
  EXPECT_EQ(in_view.storage().data(), whole.storage().data());
  EXPECT_EQ(in_view.data_ptr<float>(), whole.data_ptr<float>() + 6);
}

// Every layout users hold, in the legacy format and with GPU-tagged storages, loads strictly and
// computes the same logits as the same weights in a zip file.
TEST(CheckpointTest, LegacyCheckpointsOfEveryLayoutLoadLikeZip) {
  const std::string dir = MakeTempDir("legacy_layouts");
  struct Case {
    Variant variant;
    std::string convert;  // checkpoint_tool.py step before the legacy re-save ("" = none)
    std::string legacy_flags;
    LoadMode mode;
  };
  const std::vector<Case> cases = {
      {Variant::kMmseg, "", "--cuda", LoadMode::kStrict},                      // mmseg model zoo
      {Variant::kMmseg, "", "--bare --cuda --cuda_class", LoadMode::kStrict},  // bare state_dict
      {Variant::kOriginal, "to_original", "--cuda --cuda_class", LoadMode::kStrict},  // authors'
      {Variant::kMmseg, "backbone", "", LoadMode::kNonStrict},  // ImageNet backbone
  };
  int index = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("case ", index, " ", c.convert, " ", c.legacy_flags));
    const std::string base = absl::StrCat(dir, "/", index++);
    ModelConfig config = SmallConfig(c.variant);
    EncoderDecoder a(config);
    RandomiseForInference(*a, 10 + index);
    ASSERT_TRUE(SaveCheckpoint(base + "_ours.pth", *a, nullptr).ok());
    std::string zip = base + "_ours.pth", out;
    if (!c.convert.empty()) {
      zip = base + "_converted.pth";
      ASSERT_EQ(RunPython("checkpoint_tool.py",
                          absl::StrCat(c.convert, " ", base, "_ours.pth ", zip), &out),
                0)
          << out;
    }
    const std::string legacy = base + "_legacy.pth";
    ASSERT_EQ(RunPython("checkpoint_tool.py",
                        absl::StrCat("legacy ", zip, " ", legacy, " ", c.legacy_flags), &out),
              0)
        << out;
    EncoderDecoder from_zip(config), from_legacy(config);
    Randomise(*from_zip, 1);
    Randomise(*from_legacy, 1);
    auto zip_report = LoadCheckpoint(zip, *from_zip, c.mode);
    ASSERT_TRUE(zip_report.ok()) << zip_report.status();
    auto legacy_report = LoadCheckpoint(legacy, *from_legacy, c.mode);
    ASSERT_TRUE(legacy_report.ok()) << legacy_report.status();
    EXPECT_EQ(legacy_report->Summary(), zip_report->Summary());
    if (c.mode == LoadMode::kStrict) {
      EXPECT_TRUE(legacy_report->clean());
      ExpectSameState(*a, *from_legacy);
    } else {
      ExpectSameState(*a->backbone, *from_legacy->backbone);
    }
    ExpectSameState(*from_zip, *from_legacy);
    from_zip->eval();
    from_legacy->eval();
    torch::manual_seed(5);
    const torch::Tensor input = torch::randn({1, 3, 33, 47});
    torch::NoGradGuard no_grad;
    const torch::Tensor logits = from_legacy->Predict(input);
    ASSERT_TRUE(torch::isfinite(logits).all().item<bool>());
    EXPECT_GT(logits.std().item<float>(), 1e-3);
    EXPECT_TRUE(torch::equal(from_zip->Predict(input), logits));
  }
}

TEST(CheckpointTest, LoadStateDictCopiesMatchesAndReportsTheRest) {
  EncoderDecoder a(SmallConfig());
  Randomise(*a, 6);
  StateDict sd = ModuleStateDict(*a);
  sd.emplace_back("extra.weight", torch::zeros({2}));
  EncoderDecoder b(SmallConfig());
  LoadReport report = LoadStateDict(*b, sd);
  EXPECT_EQ(report.unexpected, (std::vector<std::string>{"extra.weight"}));
  EXPECT_TRUE(report.missing.empty());
  EXPECT_EQ(report.loaded.size(), sd.size() - 1);
  ExpectSameState(*a, *b);
}

TEST(CheckpointTest, AuthorsCheckpointMapsToOriginalVariant) {
  const std::string dir = MakeTempDir("original");
  ModelConfig config = SmallConfig(Variant::kOriginal);
  EncoderDecoder a(config);
  Randomise(*a, 3);
  ASSERT_TRUE(SaveCheckpoint(dir + "/ours.pth", *a, nullptr).ok());
  std::string out;
  ASSERT_EQ(RunPython("checkpoint_tool.py",
                      "to_original " + dir + "/ours.pth " + dir + "/theirs.pth", &out),
            0)
      << out;
  auto root = ReadTorchFile(dir + "/theirs.pth");
  ASSERT_TRUE(root.ok());
  CheckpointLayout layout;
  auto sd = ExtractStateDict(**root, "theirs.pth", &layout);
  ASSERT_TRUE(sd.ok());
  EXPECT_EQ(layout, CheckpointLayout::kOriginal);
  EncoderDecoder b(config);
  auto report = LoadCheckpoint(dir + "/theirs.pth", *b, LoadMode::kStrict);
  ASSERT_TRUE(report.ok()) << report.status();
  ExpectSameState(*a, *b);
}

TEST(CheckpointTest, ImageNetBackboneLoadsNonStrictly) {
  const std::string dir = MakeTempDir("backbone");
  ModelConfig config = SmallConfig();
  config.depth = 50;
  EncoderDecoder a(config);
  Randomise(*a, 4);
  ASSERT_TRUE(SaveCheckpoint(dir + "/full.pth", *a, nullptr).ok());
  std::string out;
  ASSERT_EQ(
      RunPython("checkpoint_tool.py", "backbone " + dir + "/full.pth " + dir + "/bb.pth", &out), 0)
      << out;
  EncoderDecoder b(config);
  EXPECT_FALSE(LoadCheckpoint(dir + "/bb.pth", *b, LoadMode::kStrict).ok());
  auto report = LoadCheckpoint(dir + "/bb.pth", *b, LoadMode::kNonStrict);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->unexpected,
            (std::vector<std::string>{"backbone.fc.weight", "backbone.fc.bias"}));
  EXPECT_TRUE(report->mismatched.empty());
  EXPECT_EQ(report->loaded.size(), ModuleStateDict(*b->backbone).size());
  ExpectSameState(*a->backbone, *b->backbone);
  EXPECT_THAT(report->Summary(), HasSubstr("2 unexpected keys (backbone.fc.weight"));
}

TEST(CheckpointTest, OtherArchitectureIsReportedAndLeavesModelUntouched) {
  const std::string dir = MakeTempDir("mismatch");
  ModelConfig other = SmallConfig();
  other.depth = 34;
  other.num_classes = 7;
  EncoderDecoder a(other);
  ASSERT_TRUE(SaveCheckpoint(dir + "/r34.pth", *a, nullptr).ok());
  EncoderDecoder b(SmallConfig());
  Randomise(*b, 5);
  StateDict before = ModuleStateDict(*b);
  std::vector<torch::Tensor> copies;
  for (auto& [k, v] : before) copies.push_back(v.clone());
  auto report = LoadCheckpoint(dir + "/r34.pth", *b, LoadMode::kStrict);
  ASSERT_FALSE(report.ok());
  const std::string message(report.status().message());
  EXPECT_THAT(message, HasSubstr(dir + "/r34.pth: checkpoint does not match the model"));
  EXPECT_THAT(message, HasSubstr("unexpected keys (backbone.layer1.2.conv1.weight"));
  EXPECT_THAT(message,
              HasSubstr("decode_head.conv_seg.weight: model [5,512,1,1], checkpoint [7,512,1,1]"));
  EXPECT_EQ(message.find('\n'), std::string::npos);
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i].second, copies[i]));
}

TEST(CheckpointTest, BadFilesGiveOneLineErrorsNamingTheFile) {
  const std::string dir = MakeTempDir("bad");
  EncoderDecoder a(SmallConfig());
  ASSERT_TRUE(SaveCheckpoint(dir + "/good.pth", *a, nullptr).ok());
  const std::string good = Slurp(dir + "/good.pth");
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
    return dir + "/" + name;
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {write("truncated.pth", good.substr(0, good.size() / 2)), "truncated or corrupt"},
      {write("empty.pth", ""), "not a PyTorch checkpoint"},
      {write("text.pth", "hello world"), "not a PyTorch checkpoint"},
      {write("legacy.pth", std::string("\x80\x02\x8a\x0a", 4) + "junk"), "legacy"},
      {dir + "/missing.pth", "cannot open file"},
  };
  for (const auto& [path, problem] : cases) {
    EncoderDecoder b(SmallConfig());
    auto report = LoadCheckpoint(path, *b, LoadMode::kStrict);
    ASSERT_FALSE(report.ok()) << path;
    const std::string message(report.status().message());
    EXPECT_THAT(message, HasSubstr(path)) << message;
    EXPECT_THAT(message, HasSubstr(problem)) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  // Corrupt zip directory: the tail of the archive overwritten.
  std::string corrupt = good;
  for (size_t i = good.size() - 100; i < good.size(); ++i) corrupt[i] ^= 0x5a;
  const std::string corrupt_path = write("corrupt.pth", corrupt);
  EncoderDecoder c(SmallConfig());
  auto report = LoadCheckpoint(corrupt_path, *c, LoadMode::kStrict);
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(std::string(report.status().message()),
              HasSubstr(corrupt_path + ": not a readable PyTorch zip checkpoint"));
}

// 16 bytes flipped inside one tensor's storage record: zip's CRC-32 of that record no longer
// matches (Python's zipfile.testzip() names it, torch.load does not notice). Every record is
// checked on reading: one error naming the file and the record, the model untouched.
TEST(CheckpointTest, FlippedBytesInATensorRecordFailTheirCrc) {
  const std::string dir = MakeTempDir("crc");
  EncoderDecoder a(SmallConfig());
  Randomise(*a, 4);
  ASSERT_TRUE(SaveCheckpoint(dir + "/good.pth", *a, nullptr).ok());
  for (const std::string record : {"data/7", "data.pkl", "version"}) {
    const std::string bad = dir + "/flipped.pth";
    std::string out;
    ASSERT_EQ(
        RunPython("checkpoint_tool.py", "flip " + dir + "/good.pth " + bad + " " + record, &out), 0)
        << out;
    const std::string zip_name = "archive/" + record;  // our writer's top folder
    EXPECT_THAT(out, HasSubstr(zip_name + " testzip=" + zip_name)) << out;
    EncoderDecoder b(SmallConfig());
    Randomise(*b, 5);
    EncoderDecoder untouched(SmallConfig());
    Randomise(*untouched, 5);
    auto report = LoadCheckpoint(bad, *b, LoadMode::kStrict);
    ASSERT_FALSE(report.ok()) << record;
    EXPECT_EQ(std::string(report.status().message()),
              bad + ": record " + zip_name + " is corrupt (CRC mismatch)");
    ExpectSameState(*b, *untouched);
  }
}

// Fine-tuning a 19-class checkpoint into 5 classes: every tensor but the two classifiers equals
// the source bit for bit; the classifiers keep the new model's initialisation and are named; a
// checkpoint whose backbone differs is still refused, and refused ones leave the model as it was.
TEST(CheckpointTest, FineTuneToOtherClassesReinitialisesOnlyTheClassifiers) {
  const std::string dir = MakeTempDir("finetune");
  ModelConfig source_config = SmallConfig();
  source_config.num_classes = 19;
  EncoderDecoder source(source_config);
  Randomise(*source, 7);
  ASSERT_TRUE(SaveCheckpoint(dir + "/cityscapes.pth", *source, nullptr).ok());
  EncoderDecoder target(SmallConfig());  // 5 classes
  Randomise(*target, 8);
  EncoderDecoder fresh(SmallConfig());
  Randomise(*fresh, 8);
  auto strict = LoadCheckpoint(dir + "/cityscapes.pth", *target, LoadMode::kStrict);
  ASSERT_FALSE(strict.ok());
  auto report = LoadCheckpoint(dir + "/cityscapes.pth", *target, LoadMode::kFineTune);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->reinitialised.size(), 4u);
  EXPECT_THAT(report->Summary(),
              HasSubstr("4 classifier tensors re-initialised for the new classes "
                        "(decode_head.conv_seg.weight: model [5,"));
  EXPECT_THAT(report->Summary(),
              HasSubstr("auxiliary_head.conv_seg.bias: model [5], checkpoint [19]"));
  StateDict src = ModuleStateDict(*source), got = ModuleStateDict(*target),
            init = ModuleStateDict(*fresh);
  std::map<std::string, torch::Tensor> by_name(src.begin(), src.end());
  int compared = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const std::string& name = got[i].first;
    if (absl::StrContains(name, ".conv_seg.")) {
      EXPECT_TRUE(torch::equal(got[i].second, init[i].second)) << name;
    } else {
      EXPECT_TRUE(torch::equal(got[i].second, by_name.at(name))) << name;
      ++compared;
    }
  }
  EXPECT_EQ(compared, static_cast<int>(got.size()) - 4);
  // Another backbone: refused, nothing changed.
  ModelConfig deeper = SmallConfig();
  deeper.depth = 34;
  deeper.num_classes = 19;
  EncoderDecoder other(deeper);
  ASSERT_TRUE(SaveCheckpoint(dir + "/r34.pth", *other, nullptr).ok());
  EncoderDecoder kept(SmallConfig());
  Randomise(*kept, 9);
  EncoderDecoder before(SmallConfig());
  Randomise(*before, 9);
  auto refused = LoadCheckpoint(dir + "/r34.pth", *kept, LoadMode::kFineTune);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("does not match the model"));
  ExpectSameState(*kept, *before);
}

TEST(CheckpointTest, CorruptLegacyFilesGiveOneLineErrorsNamingTheFile) {
  const std::string dir = MakeTempDir("bad_legacy");
  std::string out;
  ASSERT_EQ(RunPython("checkpoint_tool.py", "dtypes " + dir + "/good.pth --legacy", &out), 0)
      << out;
  const std::string good = Slurp(dir + "/good.pth");
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
    return dir + "/" + name;
  };
  auto patched = [&](const std::string& from, const std::string& to) {
    std::string bytes = good;
    const size_t at = bytes.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) bytes.replace(at, from.size(), to);
    return bytes;
  };
  std::vector<std::pair<std::string, std::string>> cases = {
      {write("magic.pth", patched(std::string("\x8a\x0a\x6c", 3), std::string("\x8a\x0a\x6d", 3))),
       "not a PyTorch checkpoint (a pickle without torch.save's magic number)"},
      {write("protocol.pth", patched("M\xe9\x03.", "M\xea\x03.")),
       "unsupported legacy protocol version 1002"},
      {write("big_endian.pth", patched("little_endianq\x02\x88", "little_endianq\x02\x89")),
       "big-endian"},
      {write("pickle_only.pth", good.substr(0, 40)), "truncated or corrupt legacy torch.save file"},
  };
  // Cut anywhere: in the header pickles, the object, the key list or the raw storages.
  for (size_t cut : {size_t{5}, size_t{16}, good.size() / 4, good.size() / 2, good.size() - 100,
                     good.size() - 1}) {
    cases.push_back({write(absl::StrCat("cut_", cut, ".pth"), good.substr(0, cut)),
                     "truncated or corrupt legacy torch.save file"});
  }
  for (const auto& [path, problem] : cases) {
    auto root = ReadTorchFile(path);
    ASSERT_FALSE(root.ok()) << path;
    const std::string message(root.status().message());
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_THAT(message, HasSubstr(problem)) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

// A full disk (simulated with RLIMIT_FSIZE, which fails writes past the limit with EFBIG) gives
// one error naming the file, leaves no temporary file, and never aborts: PyTorchStreamWriter
// used to throw again from its destructor.
TEST(CheckpointTest, FullDiskIsAnErrorNotACrash) {
  const std::string dir = MakeTempDir("full_disk");
  EncoderDecoder model(SmallConfig());
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit small = old_limit;
  small.rlim_cur = 1 << 20;  // 1 MB; the checkpoint is larger
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  absl::Status status = SaveCheckpoint(dir + "/big.pth", *model, nullptr);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  ASSERT_FALSE(status.ok());
  const std::string message(status.message());
  EXPECT_THAT(message, HasSubstr(dir + "/big.pth: cannot write:"));
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "a temporary or partial file was left";
}

}  // namespace
}  // namespace ann
