#include "ann/inference/graph.h"

#include <string>

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

GraphNode Conv(const std::string& name, std::vector<int> inputs, int64_t out, int64_t in,
               int64_t kernel, int64_t stride, int64_t padding, int64_t dilation = 1) {
  GraphNode n;
  n.kind = NodeKind::kConv;
  n.name = name;
  n.inputs = std::move(inputs);
  n.weight = torch::zeros({out, in, kernel, kernel});
  n.stride = {stride, stride};
  n.padding = {padding, padding};
  n.dilation = {dilation, dilation};
  return n;
}

GraphNode Simple(NodeKind kind, const std::string& name, std::vector<int> inputs) {
  GraphNode n;
  n.kind = kind;
  n.name = name;
  n.inputs = std::move(inputs);
  return n;
}

// input -> conv 3x3/2 -> relu -> max pool (ceil) -> {conv a, conv b (dilated)} -> concat ->
// attention (query a, key and value b) -> resize to the input.
Graph SmallGraph() {
  Graph g;
  const int image = g.AddInput("input");
  const int c = g.Add(Conv("stem", {image}, 8, 3, 3, 2, 1));
  const int r = g.Add(Simple(NodeKind::kRelu, "relu", {c}));
  GraphNode pool = Simple(NodeKind::kMaxPool, "pool", {r});
  pool.kernel = {3, 3};
  pool.stride = {2, 2};
  pool.padding = {1, 1};
  pool.ceil_mode = true;
  const int p = g.Add(pool);
  const int a = g.Add(Conv("a", {p}, 4, 8, 1, 1, 0));
  const int b = g.Add(Conv("b", {p}, 4, 8, 3, 1, 2, 2));
  const int cat = g.Add(Simple(NodeKind::kConcat, "cat", {a, b}));
  GraphNode attention = Simple(NodeKind::kAttention, "attention", {a, b, b});
  attention.channels = 4;
  attention.pool_scales = {1, 2};
  const int att = g.Add(attention);
  const int sum = g.Add(Simple(NodeKind::kAdd, "sum", {att, a}));
  const int out = g.Add(Conv("classifier", {sum, cat}, 5, 12, 1, 1, 0));
  g.AddOutput(g.Add(Simple(NodeKind::kResize, "resize", {out, image})));
  return g;
}

TEST(GraphTest, InfersShapesOfOddSizes) {
  const Graph g = SmallGraph();
  const std::vector<Shape> shapes = g.InferShapes({{2, 3, 37, 23}});
  EXPECT_EQ(shapes[1], (Shape{2, 8, 19, 12}));  // (37 + 2 - 3) / 2 + 1, (23 + 2 - 3) / 2 + 1
  EXPECT_EQ(shapes[3], (Shape{2, 8, 10, 7}));   // ceil mode: 10 (not 9), 7 (not 6)
  EXPECT_EQ(shapes[6], (Shape{2, 8, 10, 7}));   // concat of 4 + 4 channels
  EXPECT_EQ(shapes[7], (Shape{2, 4, 10, 7}));   // attention at the query's positions
  EXPECT_EQ(shapes[9], (Shape{2, 5, 10, 7}));   // a conv of two inputs: 4 + 8 channels
  EXPECT_EQ(shapes[10], (Shape{2, 5, 37, 23}));
}

TEST(GraphTest, RefusesAMisfitNamingTheNode) {
  Graph g = SmallGraph();
  g.mutable_node(9).weight = torch::zeros({5, 11, 1, 1});
  try {
    g.InferShapes({{1, 3, 37, 23}});
    FAIL() << "no error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what_without_backtrace())
                  .find("classifier: expected 11 input channels, got 12"),
              std::string::npos)
        << e.what_without_backtrace();
  }
  EXPECT_THROW(g.Add(Simple(NodeKind::kRelu, "later", {42})), c10::Error);
}

TEST(GraphTest, ConsumersReplaceUsesAndRemoveUnused) {
  Graph g = SmallGraph();
  EXPECT_EQ(g.Consumers(4), (std::vector<int>{6, 7, 8}));  // conv a: concat, attention, sum
  // Bypass the ReLU: the pool reads the conv, the ReLU is dropped, the rest renumbered.
  g.ReplaceUses(2, 1);
  g.RemoveUnused();
  ASSERT_EQ(g.size(), 10);
  EXPECT_EQ(g.node(2).name, "pool");
  EXPECT_EQ(g.node(2).inputs, (std::vector<int>{1}));
  EXPECT_EQ(g.node(6).inputs, (std::vector<int>{3, 4, 4}));
  EXPECT_EQ(g.outputs(), (std::vector<int>{9}));
  EXPECT_EQ(g.InferShapes({{2, 3, 37, 23}})[9], (Shape{2, 5, 37, 23}));
  // A node nothing reads goes; inputs stay.
  g.Add(Simple(NodeKind::kRelu, "dangling", {3}));
  g.AddInput("unused_input");
  g.RemoveUnused();
  EXPECT_EQ(g.size(), 11);
  EXPECT_EQ(g.node(10).name, "unused_input");
}

TEST(GraphTest, DescribesEveryNode) {
  const std::string text = DescribeGraph(SmallGraph());
  EXPECT_NE(text.find("2 relu relu (1)"), std::string::npos) << text;
  EXPECT_NE(text.find("5 conv b (3) 4x8x3x3 s1,1 p2,2 d2,2"), std::string::npos) << text;
  EXPECT_NE(text.find("3 max_pool pool (2) k3 s2 p1 ceil"), std::string::npos) << text;
  EXPECT_NE(text.find("7 attention attention (4,5,5) c4 scales 1,2"), std::string::npos) << text;
  EXPECT_NE(text.find("outputs 10"), std::string::npos) << text;
}

}  // namespace
}  // namespace ann
