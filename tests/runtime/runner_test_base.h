// The pipeline the Runner tests run (src and five tables on a pool of two
// slots), and a poll for what other threads do eventually.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "gtest/gtest.h"
#include "landfall/pipeline.h"

namespace landfall {

inline constexpr char kSpec[] = R"(
pool { name: "wh" slots: 2 }
defaults { pool: "wh" lease: "2s" retry { max_attempts: 3 initial_backoff: "50ms" jitter: 0 } }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "b" upstream: "src" }
table { name: "c" upstream: "src" }
table { name: "d" upstream: "src" }
table { name: "e" upstream: "a" }
)";

inline std::shared_ptr<const Pipeline> TestPipeline() {
  auto pipeline = Pipeline::FromText(kSpec, SpecFormat::kTextProto, "spec");
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  return *pipeline;
}

// Polls `done` for up to 10 seconds.
inline bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

}  // namespace landfall
