#include "lib/testing/synthetic_pipeline.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace landfall::testing {
namespace {

TEST(SyntheticPipelineTest, LayeredSpecIsValidAndShapedAsAsked) {
  LayeredPipelineOptions options;
  options.tables = 2500;
  options.width = 1000;
  options.min_fan_in = 4;
  options.max_fan_in = 4;
  auto p = Pipeline::FromSpec(MakeLayeredPipelineSpec(options));
  ASSERT_TRUE(p.ok()) << p.status();
  const PipelineSummary s = (*p)->Summary();
  EXPECT_EQ(s.tables, 2500);
  EXPECT_EQ(s.sources, 1000);
  EXPECT_EQ(s.edges, 1500 * 4);
  EXPECT_EQ(s.longest_path, 2);
  for (TableId t = 1000; t < 2000; ++t) {
    for (TableId up : (*p)->Upstreams(t)) EXPECT_LT(up, 1000);
  }
}

TEST(SyntheticPipelineTest, SameSeedSameSpecOtherSeedOtherSpec) {
  LayeredPipelineOptions options;
  options.min_fan_in = 1;
  options.max_fan_in = 6;
  const std::string a = ToTextProto(MakeLayeredPipelineSpec(options));
  EXPECT_EQ(a, ToTextProto(MakeLayeredPipelineSpec(options)));
  options.seed = 2;
  EXPECT_NE(a, ToTextProto(MakeLayeredPipelineSpec(options)));
}

TEST(SyntheticPipelineTest, TextFormRoundTrips) {
  LayeredPipelineOptions options;
  options.tables = 500;
  options.priority_classes = 3;
  options.pools = 2;
  const PipelineSpec spec = MakeLayeredPipelineSpec(options);
  auto p = Pipeline::FromText(ToTextProto(spec), SpecFormat::kTextProto,
                              "synthetic");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->spec().SerializeAsString(), spec.SerializeAsString());
  // One line per table after the header.
  EXPECT_EQ((*p)->table(0).defined_at.line + 499,
            (*p)->table(499).defined_at.line);
}

}  // namespace
}  // namespace landfall::testing
