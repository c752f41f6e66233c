// A scheduler on each kind of store, on a manual clock: the fixture of the
// suites that check what survives a reopen.
#pragma once

#include <memory>

#include "landfall/scheduler.h"
#include "tests/store/store_test_base.h"

namespace landfall::testing {

class DurableTest : public StoreTest {
 protected:
  explicit DurableTest(const char* spec) : spec_(spec) {}

  void SetUp() override {
    StoreTest::SetUp();
    pipeline_ = *Pipeline::FromText(spec_, SpecFormat::kTextProto, "spec");
    clock_.Set(absl::FromUnixSeconds(1541293200));
    options_.clock = &clock_;
  }

  // A scheduler on `store`, by default the test's first handle.
  std::unique_ptr<Scheduler> Open(std::shared_ptr<StateStore> store = {}) {
    auto scheduler =
        Scheduler::Open(pipeline_, store ? store : store_, options_);
    EXPECT_TRUE(scheduler.ok()) << scheduler.status();
    return scheduler.ok() ? *std::move(scheduler) : nullptr;
  }

  const char* spec_;
  ManualClock clock_;
  SchedulerOptions options_;
  std::shared_ptr<const Pipeline> pipeline_;
};

}  // namespace landfall::testing
