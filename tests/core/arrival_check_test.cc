// CheckArrival: the checks of an arrival, without a scheduler. An events
// file's first pass relies on them refusing exactly what Scheduler::Ingest
// refuses, with the same message.
#include "lib/core/arrival_check.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "landfall/scheduler.h"

namespace landfall::internal {
namespace {

constexpr char kSpec[] = R"pb(
  name: "check"
  table { name: "lake.events" source: true }
  table { name: "lake.users" source: true partitioned: false }
  table { name: "lake.hourly" source: true partition_format: "%Y-%m-%dT%H" }
  table { name: "mart.daily" upstream: "lake.events" }
)pb";

Arrival MakeArrival(const std::string& event_id, const std::string& table,
                    const std::string& partition) {
  Arrival a;
  a.set_event_id(event_id);
  a.set_table(table);
  a.set_partition(partition);
  return a;
}

std::vector<Arrival> BadArrivals() {
  std::vector<Arrival> bad;
  bad.push_back(MakeArrival("", "lake.events", "p"));
  bad.push_back(MakeArrival("e1", "lake.event", "p"));  // A typo.
  bad.push_back(MakeArrival("e2", "lake.events", ""));
  bad.push_back(MakeArrival("e3", "lake.users", "p"));
  bad.push_back(MakeArrival("e4", "lake.hourly", "2024-01-01"));
  Arrival late = MakeArrival("e5", "lake.events", "p");
  late.mutable_at()->set_seconds(7258118400);  // 2200-01-01.
  bad.push_back(late);
  Arrival nanos = MakeArrival("e6", "lake.events", "p");
  nanos.mutable_at()->set_nanos(-1);
  bad.push_back(nanos);
  Arrival attribute = MakeArrival("e7", "lake.events", "p");
  (*attribute.mutable_attributes())["\xff"] = "v";
  bad.push_back(attribute);
  return bad;
}

TEST(ArrivalCheckTest, RefusesWhatIngestRefusesWithItsMessage) {
  auto pipeline = *Pipeline::FromText(kSpec, SpecFormat::kTextProto, "check");
  auto scheduler = *Scheduler::Create(pipeline, SchedulerOptions{});
  for (const Arrival& a : BadArrivals()) {
    SCOPED_TRACE(a.ShortDebugString());
    const absl::Status checked = CheckArrival(*pipeline, a).status();
    EXPECT_EQ(checked.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(checked, scheduler->Ingest(a).status());
  }
  EXPECT_EQ(scheduler->LastSequence(), 0);  // Nothing was recorded.
}

TEST(ArrivalCheckTest, NamesTheTableAndTheClosestName) {
  auto pipeline = *Pipeline::FromText(kSpec, SpecFormat::kTextProto, "check");
  const absl::Status status =
      CheckArrival(*pipeline, MakeArrival("e1", "lake.event", "p")).status();
  EXPECT_NE(status.message().find("unknown table \"lake.event\""),
            std::string::npos)
      << status;
  EXPECT_NE(status.message().find("lake.events"), std::string::npos) << status;
}

TEST(ArrivalCheckTest, InABatchTheArrivalsPositionComesFirst) {
  auto pipeline = *Pipeline::FromText(kSpec, SpecFormat::kTextProto, "check");
  const Arrival a = MakeArrival("", "lake.events", "p");
  EXPECT_EQ(CheckArrival(*pipeline, a, 2, 5).status().message().substr(0, 12),
            "arrival #3: ");
  EXPECT_EQ(CheckArrival(*pipeline, a).status().message().substr(0, 7),
            "arrival");
  EXPECT_EQ(CheckArrival(*pipeline, a).status().message().find('#'),
            std::string::npos);
}

TEST(ArrivalCheckTest, AcceptsGoodArrivalsWithTheirTable) {
  auto pipeline = *Pipeline::FromText(kSpec, SpecFormat::kTextProto, "check");
  EXPECT_EQ(*CheckArrival(*pipeline, MakeArrival("e", "lake.events", "p")),
            *pipeline->FindTable("lake.events"));
  EXPECT_EQ(*CheckArrival(*pipeline, MakeArrival("e", "lake.users", "")),
            *pipeline->FindTable("lake.users"));
  EXPECT_EQ(*CheckArrival(*pipeline,
                          MakeArrival("e", "lake.hourly", "2024-01-01T05")),
            *pipeline->FindTable("lake.hourly"));
}

}  // namespace
}  // namespace landfall::internal
