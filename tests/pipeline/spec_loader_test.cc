// Loading good specs: both formats, defaults resolved, files read.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "landfall/pipeline.h"
#include "tests/pipeline/temp_file.h"

namespace landfall {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr char kAnalytics[] = R"(
name: "analytics"
priority_gate: PIPELINE
priority_class { name: "etl" }
priority_class { name: "adhoc" }
pool { name: "redshift" slots: 500 }
defaults { priority_class: "etl" pool: "redshift" lease: "10m"
           retry { max_attempts: 5 initial_backoff: "30s" multiplier: 2 max_backoff: "15m" jitter: false } }
table { name: "jalan.reservations" source: true }
table { name: "dwh.reservations" upstream: "jalan.reservations" }
table { name: "dwh.users" source: true partitioned: false }
table { name: "mart.sales" upstream: ["dwh.reservations", "dwh.users"] trigger: ANY
        priority_class: "adhoc" pool_slots: 2 sink: "redshift_sql"
        retry { max_attempts: 2 jitter: true } lease: "1h"
        freshness { max_lag: "26h" } labels { key: "owner" value: "bi" } }
)";

std::shared_ptr<const Pipeline> MustLoad(const std::string& text,
                                         SpecFormat format) {
  auto pipeline = Pipeline::FromText(text, format, "spec");
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  return pipeline.ok() ? *pipeline : nullptr;
}

void ExpectAnalytics(const Pipeline& p) {
  EXPECT_EQ(p.name(), "analytics");
  EXPECT_EQ(p.priority_gate(), PriorityGate::kPipeline);
  ASSERT_EQ(p.table_count(), 4);
  ASSERT_EQ(p.priority_classes().size(), 2u);
  EXPECT_EQ(p.priority_classes()[1].name, "adhoc");
  ASSERT_EQ(p.pools().size(), 1u);
  EXPECT_EQ(p.pools()[0].slots, 500);

  const Table& dwh = p.table(*p.FindTable("dwh.reservations"));
  EXPECT_FALSE(dwh.source);
  EXPECT_TRUE(dwh.partitioned);
  EXPECT_EQ(dwh.trigger, Trigger::kAll);
  EXPECT_EQ(dwh.priority_class, 0);
  EXPECT_EQ(dwh.pool, 0);
  EXPECT_EQ(dwh.pool_slots, 1);
  EXPECT_EQ(dwh.lease, absl::Minutes(10));
  EXPECT_EQ(dwh.retry.max_attempts, 5);
  EXPECT_EQ(dwh.retry.initial_backoff, absl::Seconds(30));
  EXPECT_EQ(dwh.retry.max_backoff, absl::Minutes(15));
  EXPECT_EQ(dwh.max_lag, absl::InfiniteDuration());

  const Table& sales = p.table(*p.FindTable("mart.sales"));
  EXPECT_EQ(sales.trigger, Trigger::kAny);
  EXPECT_EQ(sales.priority_class, 1);
  EXPECT_EQ(sales.pool_slots, 2);
  EXPECT_EQ(sales.sink, "redshift_sql");
  EXPECT_EQ(sales.lease, absl::Hours(1));
  EXPECT_EQ(sales.max_lag, absl::Hours(26));
  // A table's retry overrides the defaults field by field.
  EXPECT_EQ(sales.retry.max_attempts, 2);
  EXPECT_TRUE(sales.retry.jitter);
  EXPECT_EQ(sales.retry.initial_backoff, absl::Seconds(30));
  EXPECT_EQ(sales.labels.at("owner"), "bi");

  EXPECT_FALSE(p.table(*p.FindTable("dwh.users")).partitioned);
  EXPECT_TRUE(p.table(*p.FindTable("jalan.reservations")).source);
  EXPECT_EQ(p.table(*p.FindTable("jalan.reservations")).pool, -1);
}

TEST(SpecLoaderTest, LoadsTextFormat) {
  auto p = MustLoad(kAnalytics, SpecFormat::kTextProto);
  ASSERT_NE(p, nullptr);
  ExpectAnalytics(*p);
  EXPECT_EQ(p->table(3).defined_at.line, 12);
}

TEST(SpecLoaderTest, LoadsJsonWithTheSameMeaning) {
  auto text = MustLoad(kAnalytics, SpecFormat::kTextProto);
  ASSERT_NE(text, nullptr);
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  ASSERT_TRUE(
      google::protobuf::util::MessageToJsonString(text->spec(), &json, options)
          .ok());
  auto p = MustLoad(json, SpecFormat::kJson);
  ASSERT_NE(p, nullptr);
  ExpectAnalytics(*p);
}

TEST(SpecLoaderTest, JsonAcceptsCamelCaseFieldNames) {
  auto p = MustLoad(R"({"table": [{"name": "s", "source": true},
    {"name": "d", "upstream": ["s"], "poolSlots": 3, "priorityClass": "default"}]})",
                    SpecFormat::kJson);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->table(1).pool_slots, 3);
}

TEST(SpecLoaderTest, BuiltInDefaultsWithoutClassesOrPools) {
  auto p = MustLoad(R"(
table { name: "s" source: true }
table { name: "d" upstream: "s" }
)",
                    SpecFormat::kTextProto);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(p->priority_classes().size(), 1u);
  EXPECT_EQ(p->priority_classes()[0].name, "default");
  ASSERT_EQ(p->pools().size(), 1u);
  EXPECT_EQ(p->pools()[0].name, "default");
  EXPECT_EQ(p->pools()[0].slots, kUnlimitedSlots);
  EXPECT_EQ(p->priority_gate(), PriorityGate::kPool);
  const Table& d = p->table(1);
  EXPECT_EQ(d.pool, 0);
  EXPECT_EQ(d.lease, absl::Minutes(10));
  EXPECT_EQ(d.retry.max_attempts, 3);
  EXPECT_EQ(d.retry.multiplier, 2.0);
  EXPECT_FALSE(d.retry.jitter);
}

TEST(SpecLoaderTest, DerivedTableWithoutUpstreamsIsAllowedUnpartitioned) {
  auto p = MustLoad(R"(table { name: "external" partitioned: false })",
                    SpecFormat::kTextProto);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->Upstreams(0).empty());
}

TEST(SpecLoaderTest, FromSpecValidatesAMessageBuiltInMemory) {
  PipelineSpec spec;
  spec.add_table()->set_name("s");
  spec.mutable_table(0)->set_source(true);
  TableSpec* d = spec.add_table();
  d->set_name("d");
  d->add_upstream("s");
  auto p = Pipeline::FromSpec(spec);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT((*p)->Upstreams(1), ElementsAre(0));
}

// The pipeline keeps its spec serialized and parses it again on the first
// call of spec(): what comes back is the message loaded, once for every
// thread.
TEST(SpecLoaderTest, SpecIsTheMessageLoadedFromEveryThread) {
  PipelineSpec spec;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kAnalytics, &spec));
  auto p = Pipeline::FromSpec(spec);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->name(), "analytics");
  std::vector<const PipelineSpec*> seen(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] { seen[i] = &(*p)->spec(); });
  }
  for (std::thread& t : threads) t.join();
  for (const PipelineSpec* s : seen) EXPECT_EQ(s, seen[0]);
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(*seen[0], spec));
}

// The spec is kept without the table names and labels, which the tables
// hold: spec() puts back each table's name and each upstream's and input's,
// in the order written, an upstream read through several mappings
// included, and each table's labels, however many it has.
TEST(SpecLoaderTest, SpecPutsBackEveryTableNameAndLabelAsWritten) {
  constexpr char kWindows[] = R"(
table { name: "hourly" source: true partition_format: "%Y-%m-%dT%H"
        labels { key: "owner" value: "ingest" } labels { key: "tier" value: "" } }
table { name: "daily" source: true partition_format: "%Y-%m-%d" }
table { name: "report" partition_format: "%Y-%m-%d"
        upstream: "daily"
        input { table: "daily" mapping: PREVIOUS }
        input { table: "hourly" mapping: HOURLY_TO_DAILY }
        labels { key: "owner" value: "bi" }
        labels { key: "dag" value: "bqetl_report" }
        labels { key: "équipe" value: "données" } }
table { name: "summary" upstream: "report" partitioned: false }
)";
  PipelineSpec spec;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kWindows, &spec));
  auto p = Pipeline::FromSpec(spec);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT((*p)->table(0).labels,
              ElementsAre(Pair("owner", "ingest"), Pair("tier", "")));
  EXPECT_TRUE((*p)->table(1).labels.empty());
  EXPECT_THAT((*p)->table(2).labels,
              ElementsAre(Pair("dag", "bqetl_report"), Pair("owner", "bi"),
                          Pair("équipe", "données")));
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals((*p)->spec(), spec))
      << (*p)->spec().DebugString();
  // The tables keep their labels once the spec is back.
  EXPECT_EQ((*p)->table(2).labels.at("owner"), "bi");
}

class SpecFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    return WriteTempFile(name, text);
  }
};

TEST_F(SpecFileTest, FormatFollowsTheExtension) {
  const std::string json = Write("spec.json", R"({"table": [{"name": "s",
      "source": true}]})");
  auto p = Pipeline::FromFile(json);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->table_count(), 1);

  const std::string text = Write("spec.txtpb", kAnalytics);
  p = Pipeline::FromFile(text);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->table_count(), 4);
}

TEST_F(SpecFileTest, ProblemsNameTheFile) {
  const std::string path =
      Write("bad.textproto", "table { name: \"a\" upstream: \"b\" }\n");
  auto p = Pipeline::FromFile(path);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(p.status().message()),
              HasSubstr(path + ":1:1: table \"a\": unknown upstream \"b\""));
}

TEST_F(SpecFileTest, MissingFileIsNotFound) {
  auto p = Pipeline::FromFile(::testing::TempDir() + "no-such-spec.textproto");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(p.status().message()),
              HasSubstr("no-such-spec.textproto: No such file or directory"));
}

TEST_F(SpecFileTest, DirectoryIsRefusedAsNotAFile) {
  auto p = Pipeline::FromFile(::testing::TempDir());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(p.status().message()),
              HasSubstr(": it is a directory"));
}

TEST_F(SpecFileTest, DeviceIsRefusedRatherThanReadWithoutEnd) {
  auto p = Pipeline::FromFile("/dev/zero");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(p.status().message()),
              HasSubstr("/dev/zero: it is not a regular file"));
}

TEST_F(SpecFileTest, SpecLargerThan256MiBIsRefused) {
  const std::string path = Write("huge.textproto", "");
  // Sparse: the size is what counts, and nothing is written.
  std::filesystem::resize_file(path, (uint64_t{256} << 20) + 1);
  auto p = Pipeline::FromFile(path);
  std::filesystem::remove(path);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(p.status().message()),
              HasSubstr("larger than 256 MiB"));
}

}  // namespace
}  // namespace landfall
