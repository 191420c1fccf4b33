#include "ann/util/json.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace ann {
namespace {

TEST(JsonTest, NonFiniteNumbersAreNull) {
  EXPECT_TRUE(JsonNumber(std::nan("")).is_null());
  EXPECT_TRUE(JsonNumber(std::numeric_limits<double>::infinity()).is_null());
  EXPECT_DOUBLE_EQ(JsonNumber(0.25).get<double>(), 0.25);
}

TEST(JsonTest, RoundsLikePython) {
  EXPECT_DOUBLE_EQ(JsonNumber(1.234567, 5).get<double>(), 1.23457);
  EXPECT_DOUBLE_EQ(JsonNumber(0.0099, 5).get<double>(), 0.0099);
  EXPECT_DOUBLE_EQ(JsonNumber(-2.5, 0).get<double>(), -2.0);  // ties to even
}

TEST(JsonTest, LinesUsePythonSeparatorsAndKeepOrder) {
  Json line = Json::object();
  line["mode"] = "train";
  line["epoch"] = 1;
  line["iter"] = 50;
  line["lr"] = JsonNumber(0.0099, 5);
  line["acc"] = JsonNumber(std::nan(""));
  line["list"] = Json::array({1, 2});
  EXPECT_EQ(
      JsonLine(line),
      R"({"mode": "train", "epoch": 1, "iter": 50, "lr": 0.0099, "acc": null, "list": [1, 2]})");
  auto parsed = ParseJson(JsonLine(line));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ((*parsed)["iter"].get<int>(), 50);
  EXPECT_FALSE(ParseJson("{\"a\": NaN}").has_value());  // strict: what we never write
  EXPECT_FALSE(ParseJson("{\"a\": 1").has_value());
}

}  // namespace
}  // namespace ann
