// Stores to run a suite against: each test gets a fresh one (and, for a
// file, a fresh path), and can open more handles on the same one.
#pragma once

#include <unistd.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "landfall/state_store.h"

namespace landfall::testing {

enum class StoreKind { kMemory, kSqlite };

inline std::string StoreKindName(
    const ::testing::TestParamInfo<StoreKind>& info) {
  return info.param == StoreKind::kMemory ? "Memory" : "Sqlite";
}

// A unique path under the test's temporary directory.
inline std::string TempPath(const std::string& name) {
  static int counter = 0;
  return ::testing::TempDir() + "landfall-" + std::to_string(getpid()) + "-" +
         std::to_string(++counter) + "-" + name;
}

class StoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    if (GetParam() == StoreKind::kSqlite) path_ = TempPath("state.db");
    store_ = Reopen();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    if (path_.empty()) return;
    for (const char* suffix : {"", "-wal", "-shm"}) {
      unlink((path_ + suffix).c_str());
    }
  }

  // Another handle on the same store: the same object in memory, a new
  // connection to the same file.
  std::shared_ptr<StateStore> Reopen() {
    if (GetParam() == StoreKind::kMemory) {
      return store_ != nullptr ? store_ : NewMemoryStore();
    }
    auto store = OpenSqliteStore(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *store : nullptr;
  }

  std::string path_;
  std::shared_ptr<StateStore> store_;
};

}  // namespace landfall::testing
