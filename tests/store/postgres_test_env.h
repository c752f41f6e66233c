// The PostgreSQL server tests run against: .ci/postgres starts one and
// exports LANDFALL_TEST_POSTGRES (a conninfo). Without it a test is skipped,
// saying why; in CI (CI=true) it fails instead, so that CI never passes
// without having run them.
#pragma once

#include <string>

#include "gtest/gtest.h"
#include "tests/ci_env.h"

namespace landfall::testing {

// LANDFALL_TEST_POSTGRES, or "" when unset.
std::string TestPostgres();
// LANDFALL_TEST_POSTGRES_CTL (the .ci/postgres command), or "".
std::string TestPostgresCtl();
// A schema name no other test (nor process) uses.
std::string NewTestSchema();
// Drops `schema` and everything in it (a test's own). Returns libpq's error,
// or "".
std::string DropTestSchema(const std::string& schema);
// Runs `sql` on the test server on a connection of its own; libpq's error,
// or "".
std::string ExecOnTestServer(const std::string& sql);
// Runs `sql` on the server of `conninfo` on a connection of its own; its
// first value through `value` when not null. libpq's error, or "".
std::string ExecOn(const std::string& conninfo, const std::string& sql,
                   std::string* value = nullptr);
// The first column of the first row `sql` gives, as text ("" for none).
std::string QueryTestServer(const std::string& sql);

// A cluster of its own, started by .ci/postgres in a temporary directory,
// for a test that restarts its server: the shared one goes on serving the
// tests that run meanwhile. Stopped and removed on destruction.
class PrivatePostgres {
 public:
  PrivatePostgres();
  ~PrivatePostgres();
  PrivatePostgres(const PrivatePostgres&) = delete;
  PrivatePostgres& operator=(const PrivatePostgres&) = delete;
  // Starts it; "" or what went wrong.
  std::string Start();
  // Runs `.ci/postgres command` on it ("restart-immediate",
  // "stop-immediate", "resume", "standby-start", "failover"); "" or what
  // went wrong. Its output through `output` when not null.
  std::string Control(const std::string& command,
                      std::string* output = nullptr);
  // A variable `.ci/postgres env` exports for it, or "".
  std::string EnvValue(const std::string& name);
  // Its conninfo, once started.
  const std::string& uri() const { return uri_; }

 private:
  std::string dir_;
  std::string uri_;
};

}  // namespace landfall::testing

// Skips the test (FAIL in CI) when there is no test server.
#define LANDFALL_REQUIRE_POSTGRES()                                         \
  do {                                                                      \
    if (::landfall::testing::TestPostgres().empty()) {                      \
      if (::landfall::testing::InCi()) {                                    \
        FAIL() << "CI=true but LANDFALL_TEST_POSTGRES is not set: .ci/run " \
                  "starts the server with .ci/postgres";                    \
      }                                                                     \
      GTEST_SKIP() << "no PostgreSQL server: set LANDFALL_TEST_POSTGRES "   \
                      "(eval \"$(bash .ci/postgres start && bash "          \
                      ".ci/postgres env)\")";                               \
    }                                                                       \
  } while (0)

// As above, also needing the server's control command (restarts).
#define LANDFALL_REQUIRE_POSTGRES_CTL()                                     \
  do {                                                                      \
    LANDFALL_REQUIRE_POSTGRES();                                            \
    if (::landfall::testing::TestPostgresCtl().empty()) {                   \
      if (::landfall::testing::InCi()) {                                    \
        FAIL() << "CI=true but LANDFALL_TEST_POSTGRES_CTL is not set";      \
      }                                                                     \
      GTEST_SKIP() << "cannot restart the PostgreSQL server: set "          \
                      "LANDFALL_TEST_POSTGRES_CTL (bash .ci/postgres env)"; \
    }                                                                       \
  } while (0)
