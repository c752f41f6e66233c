// The platform landfall exists for, simulated over one night: several
// services land their tables, loads into two warehouses run, a maintenance
// window fails some loads retryably, a trigger fires twice, and one load fails
// fatally. Only that table's descendants stop; everything else finishes, and
// in each warehouse no lower class starts while a higher one is at work.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "landfall/simulator.h"

namespace landfall {
namespace {

using google::protobuf::Struct;

constexpr char kPartition[] = "2018-11-03";

Arrival Landing(const Pipeline& pipeline, const std::string& table,
                const std::string& event_id, const std::string& at) {
  Arrival a;
  EXPECT_TRUE(
      google::protobuf::util::JsonStringToMessage("{\"at\":\"" + at + "\"}", &a)
          .ok());
  a.set_event_id(event_id);
  a.set_table(table);
  if (pipeline.table(*pipeline.FindTable(table)).partitioned) {
    a.set_partition(kPartition);
  }
  a.set_origin("s3://lake/" + table + "/" + kPartition);
  return a;
}

SimulatedAttempt Fails(const std::string& table, int attempt, Outcome outcome,
                       const std::string& message) {
  SimulatedAttempt s;
  s.set_table(table);
  s.set_attempt(attempt);
  s.set_duration("5m");
  s.set_outcome(outcome);
  s.set_message(message);
  return s;
}

class NightOfLoadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pipeline = Pipeline::FromFile(std::string(LANDFALL_SOURCE_DIR) +
                                       "/examples/recruit/pipeline.textproto");
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    pipeline_ = *pipeline;
  }

  std::string Key(const std::string& table) const {
    return table + "/" +
           (pipeline_->table(*pipeline_->FindTable(table)).partitioned
                ? kPartition
                : "");
  }

  std::shared_ptr<const Pipeline> pipeline_;
};

TEST_F(NightOfLoadsTest, OnlyTheFailedTablesDescendantsStop) {
  // Services land from 01:00; two of them late, at 01:20 and 01:30.
  std::vector<Arrival> arrivals;
  int id = 0;
  for (TableId t = 0; t < pipeline_->table_count(); ++t) {
    const Table& table = pipeline_->table(t);
    if (!table.source) continue;
    std::string at = "2018-11-04T01:00:00Z";
    if (table.name.rfind("suumo.", 0) == 0) at = "2018-11-04T01:20:00Z";
    if (table.name.rfind("carsensor.", 0) == 0) at = "2018-11-04T01:30:00Z";
    arrivals.push_back(
        Landing(*pipeline_, table.name, "e" + std::to_string(++id), at));
  }
  // The same delivery fired twice.
  arrivals.push_back(
      Landing(*pipeline_, "jalan.reservations", "e1", "2018-11-04T01:05:00Z"));

  const std::string fatal = "dwh.townwork_jobs";
  const std::vector<std::string> maintenance = {
      "dwh.jalan_reservations", "dwh.hotpepper_gourmet_reservations",
      "dwh.suumo_listings"};
  std::vector<SimulatedAttempt> script;
  for (const std::string& table : maintenance) {
    script.push_back(Fails(table, 1, Outcome::RETRYABLE, "maintenance"));
  }
  script.push_back(Fails(fatal, 1, Outcome::FATAL, "schema mismatch"));

  std::ostringstream out;
  ASSERT_TRUE(Simulate(pipeline_, arrivals, script, {}, out).ok());

  // Read the output back.
  std::map<std::string, std::vector<Struct>> attempts;  // By task.
  std::vector<std::string> duplicates;
  Struct summary;
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) {
    Struct s;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &s).ok())
        << line;
    const auto& f = s.fields();
    if (f.count("duplicate")) {
      duplicates.push_back(f.at("duplicate").string_value());
    } else if (f.count("summary")) {
      summary = f.at("summary").struct_value();
    } else {
      attempts[f.at("table").string_value() + "/" +
               f.at("partition").string_value()]
          .push_back(s);
    }
  }
  EXPECT_THAT(duplicates, ::testing::ElementsAre("e1"));

  // The dead letter holds the failed table alone; its descendants are
  // blocked, but for a trigger ANY table with a healthy upstream (which
  // runs on it) and what is below only through it.
  const auto& dead = summary.fields().at("dead").list_value().values();
  ASSERT_EQ(dead.size(), 1);
  EXPECT_EQ(dead[0].struct_value().fields().at("table").string_value(), fatal);
  std::set<TableId> unhealthy = {*pipeline_->FindTable(fatal)};
  std::set<std::string> expected_blocked;
  for (TableId t : pipeline_->TopologicalOrder()) {
    const auto upstreams = pipeline_->Upstreams(t);
    const auto count =
        std::count_if(upstreams.begin(), upstreams.end(),
                      [&](TableId up) { return unhealthy.count(up) > 0; });
    const bool any = pipeline_->table(t).trigger == Trigger::kAny;
    if (unhealthy.count(t) ||
        (any ? count < static_cast<long>(upstreams.size()) : count == 0)) {
      continue;
    }
    unhealthy.insert(t);
    expected_blocked.insert(Key(pipeline_->table(t).name));
  }
  ASSERT_FALSE(expected_blocked.empty());
  std::set<std::string> blocked;
  for (const auto& v : summary.fields().at("blocked").list_value().values()) {
    const auto& f = v.struct_value().fields();
    blocked.insert(f.at("table").string_value() + "/" +
                   f.at("partition").string_value());
  }
  EXPECT_EQ(blocked, expected_blocked);

  // Every other derived table was built, the maintenance victims on retry.
  for (TableId t = 0; t < pipeline_->table_count(); ++t) {
    const Table& table = pipeline_->table(t);
    const std::string key = Key(table.name);
    if (table.source || table.name == fatal || blocked.count(key)) continue;
    ASSERT_TRUE(attempts.count(key)) << key << " never ran";
    EXPECT_EQ(attempts[key].back().fields().at("outcome").string_value(),
              "SUCCEEDED")
        << key;
  }
  for (const std::string& table : maintenance) {
    const auto& runs = attempts[Key(table)];
    ASSERT_EQ(runs.size(), 2u) << table;
    EXPECT_EQ(runs[0].fields().at("outcome").string_value(), "RETRYABLE");
    EXPECT_EQ(runs[1].fields().at("outcome").string_value(), "SUCCEEDED");
  }

  // The gate: no attempt starts while a higher class of its pool is running
  // or waiting to retry (a ready one would have been claimed first). Times
  // are RFC 3339 strings of one format, so they compare as text.
  struct Active {
    PoolId pool;
    ClassId cls;
    std::string from, to;  // Running [claimed, finished), then retry wait.
    bool to_inclusive;
  };
  std::vector<Active> active;
  std::vector<std::tuple<PoolId, ClassId, std::string, std::string>> claims;
  for (const auto& [key, runs] : attempts) {
    const Table& table =
        pipeline_->table(*pipeline_->FindTable(key.substr(0, key.find('/'))));
    for (size_t i = 0; i < runs.size(); ++i) {
      const auto& f = runs[i].fields();
      const std::string claimed = f.at("claimed_at").string_value();
      const std::string finished = f.at("finished_at").string_value();
      claims.emplace_back(table.pool, table.priority_class, claimed, key);
      active.push_back(
          {table.pool, table.priority_class, claimed, finished, false});
      if (f.at("outcome").string_value() == "RETRYABLE" &&
          i + 1 < runs.size()) {
        active.push_back({table.pool, table.priority_class, finished,
                          runs[i + 1].fields().at("claimed_at").string_value(),
                          true});
      }
    }
  }
  int gated_claims = 0;
  for (const auto& [pool, cls, at, key] : claims) {
    for (const Active& a : active) {
      if (a.pool != pool || a.cls >= cls) continue;
      const bool inside =
          a.from <= at && (a.to_inclusive ? at <= a.to : at < a.to);
      EXPECT_FALSE(inside) << key << " started at " << at
                           << " while a higher class was active in pool "
                           << pipeline_->pools()[pool].name << " from "
                           << a.from << " to " << a.to;
    }
    if (cls > 0) ++gated_claims;
  }
  EXPECT_GT(gated_claims, 0);  // Lower classes did run in the end.
}

}  // namespace
}  // namespace landfall
