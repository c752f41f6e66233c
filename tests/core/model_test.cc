// Randomized model-based test of the scheduler's invariants. Each seed builds
// a small random pipeline and drives it with a random sequence of arrivals
// (some duplicated), claims, completions (some stale), heartbeats, clock
// steps, operations and deploys (a table's trigger flipped, or an edge
// added, the table adopted or rebuilt). One pipeline in three has partition
// formats and windowed edges (HOURLY_TO_DAILY, PREVIOUS, with IDENTITY
// beside), and the rules below then read every partition of each window.
// Checked after every step:
//   - a pool never holds more slots than it has when a claim is made;
//   - no task is claimed while a higher class is active in its gate scope
//     (retrying tasks of a class with gate_holds_retrying false are not
//     active), unless it was READY for its class's max_gate_wait;
//   - a claim takes a task READY for its max_gate_wait despite the gate
//     when its pool has room for it, after the higher classes' tasks;
//   - no task is claimed while it is already running, attempts only grow;
//   - a task is BLOCKED only by DESIGN.md's rule (trigger ALL: an upstream
//     task it reads is dead or blocked; trigger ANY: every upstream is, and
//     a source never is), and no READY task is blocked by it;
//   - history sequence numbers have no gaps;
// and at the end of the sequence:
//   - once the stream goes quiet and every attempt succeeds, no task whose
//     inputs are complete and newer than what it consumed is left unclaimed
//     (checked against an independent reading of the history);
//   - the state rebuilt from the history equals the live state;
//   - with a store (every other run), a scheduler reopened from its
//     snapshots and journal equals the live one, midway and at the end.
#include <cstdlib>

#include "gtest/gtest.h"
#include "tests/core/model_run.h"

namespace landfall::testing {
namespace {

int SeedCount() {
  const char* env = std::getenv("LANDFALL_MODEL_SEEDS");
  return env != nullptr ? std::atoi(env) : 2000;
}

TEST(ModelTest, InvariantsHoldOverRandomSequences) {
  const int seeds = SeedCount();
  for (int seed = 1; seed <= seeds; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    ModelRun(seed).Run(150);
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace landfall::testing
