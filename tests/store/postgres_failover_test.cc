// Failover: the primary crashes and its synchronous standby is promoted.
// A store whose conninfo names both hosts (target_session_attrs=read-write)
// gets Unavailable, finds the new primary by itself, and has every
// acknowledged operation; the fencing still holds across the switch.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "landfall/scheduler.h"
#include "lib/testing/history.h"
#include "tests/store/postgres_test_env.h"

namespace landfall::testing {
namespace {

constexpr char kSpec[] = R"(
name: "failover"
defaults { lease: "60s" }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
)";

class PostgresFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LANDFALL_REQUIRE_POSTGRES_CTL();
    ASSERT_EQ(cluster_.Start(), "");
    ASSERT_EQ(cluster_.Control("standby-start"), "");
    const std::string standby_port =
        cluster_.EnvValue("LANDFALL_TEST_POSTGRES_STANDBY_PORT");
    ASSERT_NE(standby_port, "");
    // postgresql://user:password@127.0.0.1:P/db: both hosts, the writable
    // one wanted.
    const std::string primary = cluster_.uri();
    const size_t slash = primary.rfind('/');
    uri_ = absl::StrCat(primary.substr(0, slash), ",127.0.0.1:", standby_port,
                        primary.substr(slash),
                        "?target_session_attrs=read-write&connect_timeout=2"
                        "&schema=failover");
  }

  PrivatePostgres cluster_;
  std::string uri_;
};

TEST_F(PostgresFailoverTest, PromotedStandbyServesEveryAcknowledgedOperation) {
  auto pipeline = Pipeline::FromText(kSpec, SpecFormat::kTextProto, "fo");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  auto store = OpenStateStore(uri_);
  ASSERT_TRUE(store.ok()) << store.status();
  auto opened = Scheduler::Open(*pipeline, *store);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Scheduler& s = **opened;
  std::vector<Arrival> arrivals;
  for (int i = 0; i < 5; ++i) {
    Arrival a;
    a.set_event_id(absl::StrCat("e", i));
    a.set_table("src");
    a.set_partition(absl::StrCat("p", i));
    arrivals.push_back(a);
  }
  ASSERT_TRUE(s.IngestBatch(arrivals).ok());
  auto claimed = s.Claim("w", 5);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 5u);
  const int64_t acknowledged = s.LastSequence();

  ASSERT_EQ(cluster_.Control("failover"), "");
  // The first call after the switch may see the old connection fail; the
  // store reconnects by itself (bounded: 50 tries, 100 ms apart).
  absl::Status completed;
  int unavailable = 0;
  for (int i = 0; i < 50; ++i) {
    completed = s.Complete((*claimed)[0].task, (*claimed)[0].attempt,
                           Outcome::SUCCEEDED);
    if (!absl::IsUnavailable(completed)) break;
    ++unavailable;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(completed.ok()) << completed;
  // Every acknowledged entry is on the new primary, and no claim is lost:
  // the other attempts are still held, a stale one is still refused.
  EXPECT_GE(s.LastSequence(), acknowledged + 1);
  EXPECT_EQ(s.Complete((*claimed)[0].task, (*claimed)[0].attempt - 1,
                       Outcome::SUCCEEDED)
                .code(),
            absl::StatusCode::kFailedPrecondition);
  for (size_t i = 1; i < claimed->size(); ++i) {
    EXPECT_TRUE(s.Complete((*claimed)[i].task, (*claimed)[i].attempt,
                           Outcome::SUCCEEDED)
                    .ok());
  }
  auto reopened = Scheduler::Open(*OpenStateStore(uri_));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  int succeeded = 0;
  for (const HistoryEntry& e : History(**reopened, 1, 1000)) {
    succeeded += e.kind == EntryKind::kSucceeded ? 1 : 0;
  }
  EXPECT_EQ(succeeded, 5);
  std::cout << "[ failover ] " << unavailable
            << " calls Unavailable before the promoted standby served\n";
}

}  // namespace
}  // namespace landfall::testing
