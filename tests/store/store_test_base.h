// Stores to run a suite against: each test gets a fresh one (and, for a
// file, a fresh path), and can open more handles on the same one.
#pragma once

#include <unistd.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "landfall/state_store.h"
#include "tests/store/postgres_test_env.h"

namespace landfall::testing {

enum class StoreKind { kMemory, kSqlite, kPostgres };

inline std::string StoreKindName(
    const ::testing::TestParamInfo<StoreKind>& info) {
  switch (info.param) {
    case StoreKind::kMemory:
      return "Memory";
    case StoreKind::kSqlite:
      return "Sqlite";
    case StoreKind::kPostgres:
      return "Postgres";
  }
  return "Unknown";
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
    if (GetParam() == StoreKind::kPostgres) {
      LANDFALL_REQUIRE_POSTGRES();
      schema_ = NewTestSchema();
    }
    if (GetParam() == StoreKind::kSqlite) path_ = TempPath("state.db");
    store_ = Reopen();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    if (!schema_.empty()) {
      EXPECT_EQ(DropTestSchema(schema_), "");
    }
    if (path_.empty()) return;
    for (const char* suffix : {"", "-wal", "-shm", "-queue"}) {
      unlink((path_ + suffix).c_str());
    }
  }

  // Another handle on the same store: the same object in memory, a new
  // connection to the same file or schema.
  std::shared_ptr<StateStore> Reopen() {
    if (GetParam() == StoreKind::kMemory) {
      return store_ != nullptr ? store_ : NewMemoryStore();
    }
    if (GetParam() == StoreKind::kPostgres) {
      PostgresStoreOptions options;
      options.schema = schema_;
      auto store = OpenPostgresStore(TestPostgres(), options);
      EXPECT_TRUE(store.ok()) << store.status();
      return store.ok() ? *store : nullptr;
    }
    auto store = OpenSqliteStore(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *store : nullptr;
  }

  std::string path_;
  std::string schema_;  // PostgreSQL's.
  std::shared_ptr<StateStore> store_;
};

}  // namespace landfall::testing
