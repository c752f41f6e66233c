// `landfall demo --postgres` as a user runs it, against the test server
// (.ci/postgres): the warehouse loads' sql fills every warehouse table with
// the demo's partition, and the password stays out of the command line and
// the output.
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/pipeline.h"
#include "tests/store/postgres_test_env.h"

namespace landfall::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Result {
  int code = -1;
  std::string output;
};

// Runs the command with `args` (shell words, quoted by the caller); its
// exit code and output (stdout and stderr).
Result RunCli(const std::string& args) {
  Result result;
  FILE* out =
      popen(absl::StrCat(LANDFALL_CLI, " ", args, " 2>&1").c_str(), "r");
  if (out == nullptr) return result;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), out)) {
    result.output.append(buffer, n);
  }
  const int status = pclose(out);
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// `conninfo` as key=value pairs without its password, which goes to
// `password`.
std::string WithoutPassword(const std::string& conninfo,
                            std::string* password) {
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr);
  std::string out;
  for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr;
       ++o) {
    if (o->val == nullptr || o->val[0] == '\0') continue;
    if (std::strcmp(o->keyword, "password") == 0) {
      *password = o->val;
    } else {
      absl::StrAppend(&out, o->keyword, "=", o->val, " ");
    }
  }
  PQconninfoFree(options);
  return out;
}

class DemoPostgresTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!TestPostgres().empty()) {
      EXPECT_EQ(DropTestSchema(schema_), "");
    }
    std::filesystem::remove_all(dir_);
  }

  // The count `sql` gives in the test's schema.
  std::string Count(const std::string& sql) {
    return QueryTestServer(
        absl::StrCat("SET search_path = ", schema_, "; SELECT count(*) ", sql));
  }

  const std::string schema_ = NewTestSchema();
  const std::string dir_ =
      absl::StrCat(::testing::TempDir(), "landfall-demo-pg-", getpid());
};

TEST_F(DemoPostgresTest, FillsEveryWarehouseTableWithTheDemosPartition) {
  LANDFALL_REQUIRE_POSTGRES();
  std::string password;
  const std::string conninfo = WithoutPassword(TestPostgres(), &password);
  ASSERT_FALSE(password.empty()) << "the test server takes a password";
  setenv("PGPASSWORD", password.c_str(), 1);
  const Result demo =
      RunCli(absl::StrCat("demo --dir '", dir_, "' --postgres '", conninfo,
                          "' --postgres-schema ", schema_));
  unsetenv("PGPASSWORD");
  ASSERT_EQ(demo.code, 0) << demo.output;
  EXPECT_THAT(demo.output, Not(HasSubstr(password)));

  auto pipeline = Pipeline::FromFile(absl::StrCat(
      LANDFALL_SOURCE_DIR, "/examples/recruit/pipeline.textproto"));
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  int loaded = 0;
  for (const Table& t : (*pipeline)->tables()) {
    if (t.sql.empty()) continue;
    ++loaded;
    const std::string name = absl::StrReplaceAll(t.name, {{".", "_"}});
    const std::string lake = absl::StrReplaceAll(
        (*pipeline)->table((*pipeline)->Upstreams(t.id)[0]).name, {{".", "_"}});
    const std::string rows = Count(absl::StrCat("FROM ", name));
    SCOPED_TRACE(name);
    EXPECT_NE(rows, "0");
    if (t.partitioned) {
      // The demo's day only, though the lake holds the day before too.
      EXPECT_EQ(rows,
                Count(absl::StrCat("FROM ", lake, " WHERE dt = '2018-11-03'")));
      EXPECT_EQ(Count(absl::StrCat("FROM ", name, " WHERE dt <> '2018-11-03'")),
                "0");
    } else {
      EXPECT_EQ(rows, Count(absl::StrCat("FROM ", lake)));
    }
    // The closing table of row counts says the same.
    EXPECT_THAT(demo.output, ::testing::ContainsRegex(
                                 absl::StrCat("\n", name, " +", rows, "\n")));
  }
  EXPECT_EQ(loaded, 19);
}

TEST_F(DemoPostgresTest, RefusesAUriHoldingAPasswordWithoutQuotingIt) {
  const Result demo = RunCli(
      absl::StrCat("demo --dir '", dir_,
                   "' --postgres postgresql://etl:hunter2@127.0.0.1:1/dwh"));
  EXPECT_EQ(demo.code, 2) << demo.output;
  EXPECT_THAT(demo.output, HasSubstr("--postgres: the URI holds a password"));
  EXPECT_THAT(demo.output, Not(HasSubstr("hunter2")));
  EXPECT_FALSE(std::filesystem::exists(dir_));
}

}  // namespace
}  // namespace landfall::testing
