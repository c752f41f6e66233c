/* The C API on the PostgreSQL store of $LANDFALL_TEST_POSTGRES (which
 * .ci/postgres starts), in a schema of its own, dropped at the end. Without
 * a server it exits 77 (skipped) saying why; with CI=true it fails. */
#define _POSIX_C_SOURCE 200809L

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "landfall/landfall.h"
#include "tests/capi/capi_check.h"

/* CTest's SKIP_RETURN_CODE. */
#define SKIPPED 77

static const char kSpec[] =
    "name: \"capi_pg\"\n"
    "table { name: \"src\" source: true partitioned: false }\n"
    "table { name: \"load\" upstream: \"src\" partitioned: false }\n";

/* The first value `sql` gives on the test server, into `value` (size
 * `size`), "" for none; exits on an error. */
static void Query(const char* server, const char* sql, char* value,
                  size_t size) {
  PGconn* conn = PQconnectdb(server);
  PGresult* r;
  CHECK(PQstatus(conn) == CONNECTION_OK);
  r = PQexec(conn, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK &&
      PQresultStatus(r) != PGRES_TUPLES_OK) {
    fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
    exit(1);
  }
  snprintf(value, size, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
  PQclear(r);
  PQfinish(conn);
}

/* Whether the server has a schema named `schema`. */
static int SchemaExists(const char* server, const char* schema) {
  char sql[256], count[16];
  snprintf(sql, sizeof(sql),
           "SELECT count(*) FROM pg_namespace WHERE nspname = '%s'", schema);
  Query(server, sql, count, sizeof(count));
  return strcmp(count, "0") != 0;
}

/* The test's schema, dropped by the parent process whatever the outcome. */
static const char* test_server = NULL;
static char test_schema[64];

static void IgnoreNotice(void* state, const char* message) {
  (void)state;
  (void)message;
}

static void DropTestSchema(void) {
  char sql[128];
  PGconn* conn = PQconnectdb(test_server);
  PQsetNoticeProcessor(conn, IgnoreNotice, NULL);
  snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS \"%s\" CASCADE",
           test_schema);
  if (PQstatus(conn) == CONNECTION_OK) PQclear(PQexec(conn, sql));
  PQfinish(conn);
}

/* The scheduler's history (JSON lines). Free with landfall_free. */
static char* History(landfall_scheduler_t* s) {
  char* text = NULL;
  CHECK_OK(landfall_read_history(s, 1, 1000, &text, &err));
  return text;
}

static void TestPostgresStore(const char* server, const char* schema) {
  char uri[1024], typo_schema[128], typo[1024];
  const char* separator = strchr(server, '?') != NULL ? "&" : "?";
  landfall_scheduler_t* s = NULL;
  landfall_claims_t* claims = NULL;
  const landfall_task_t* task;
  char* text;
  int duplicate = -1;
  int64_t seq;

  snprintf(uri, sizeof(uri), "%s%sschema=%s", server, separator, schema);
  CHECK_OK(
      landfall_scheduler_open_text(kSpec, strlen(kSpec), NULL, uri, &s, &err));
  CHECK(SchemaExists(server, schema));
  CHECK_OK(landfall_ingest(s, "e1", "src", NULL, NULL, "s3://lake/src/1",
                           &duplicate, &err));
  CHECK(duplicate == 0);
  CHECK_OK(landfall_claim(s, "w1", 5, NULL, 0, NULL, 0, &claims, &err));
  CHECK(landfall_claims_count(claims) == 1);
  task = landfall_claims_at(claims, 0);
  CHECK(strcmp(landfall_task_table(task), "load") == 0);
  CHECK(strcmp(landfall_task_origin(task, 0), "s3://lake/src/1") == 0);
  CHECK_OK(landfall_complete(s, "load", "", landfall_task_attempt(task),
                             LANDFALL_SUCCEEDED, "loaded", &err));
  landfall_claims_destroy(claims);
  text = History(s);
  CHECK_CONTAINS(text, "\"kind\":\"claimed\"");
  CHECK_CONTAINS(text, "\"kind\":\"succeeded\"");
  landfall_free(text);
  seq = landfall_last_sequence(s);
  landfall_scheduler_close(s);

  /* Another handle without a spec runs the store's, with its state. */
  s = NULL;
  CHECK_OK(landfall_scheduler_open(NULL, uri, &s, &err));
  CHECK(strcmp(landfall_pipeline_name(s), "capi_pg") == 0);
  CHECK(landfall_last_sequence(s) == seq);
  CHECK_OK(landfall_ingest(s, "e1", "src", NULL, NULL, NULL, &duplicate, &err));
  CHECK(duplicate == 1);
  seq = landfall_last_sequence(s);
  landfall_scheduler_close(s);

  /* Read-only: reads, refuses to write. */
  s = NULL;
  CHECK_OK(landfall_scheduler_open_read_only(uri, &s, &err));
  CHECK(landfall_last_sequence(s) == seq);
  CHECK_OK(landfall_status(s, "load", "SUCCEEDED", &text, &err));
  CHECK_CONTAINS(text, "\"table\":\"load\"");
  landfall_free(text);
  CHECK_CODE(LANDFALL_PERMISSION_DENIED,
             landfall_ingest(s, "e2", "src", NULL, NULL, NULL, NULL, &err));
  CHECK(landfall_last_sequence(s) == seq);
  landfall_scheduler_close(s);

  /* Read-only on a mistyped schema: not found, and not created. */
  snprintf(typo_schema, sizeof(typo_schema), "%s_typo", schema);
  snprintf(typo, sizeof(typo), "%s%sschema=%s", server, separator, typo_schema);
  s = NULL;
  CHECK_CODE(LANDFALL_NOT_FOUND,
             landfall_scheduler_open_read_only(typo, &s, &err));
  CHECK_CONTAINS(err, "no landfall store in schema");
  CHECK(s == NULL);
  CHECK(!SchemaExists(server, typo_schema));

  DropTestSchema();
  CHECK(!SchemaExists(server, schema));
}

/* The C executor: runs the tables no spec sink builds, counting them. */
static int CountRun(void* state, const landfall_task_t* task, char* message,
                    size_t message_size) {
  (void)task;
  (void)message;
  (void)message_size;
  ++*(int*)state;
  return LANDFALL_SUCCEEDED;
}

/* A runner whose options bind the spec's postgres sink builds its table in
 * the database; the callback runs the other table. */
static void TestSpecSinks(const char* server, const char* schema) {
  char spec[1024], sql[256], count[16];
  landfall_scheduler_t* s = NULL;
  landfall_runner_options_t* options = landfall_runner_options_create();
  landfall_runner_t* r = NULL;
  landfall_run_summary_t* summary = NULL;
  int callback_runs = 0;

  snprintf(sql, sizeof(sql),
           "CREATE SCHEMA \"%s\"; CREATE TABLE \"%s\".built (p text)", schema,
           schema);
  Query(server, sql, count, sizeof(count));
  snprintf(spec, sizeof(spec),
           "sink { name: \"pg\" postgres { } }\n"
           "table { name: \"src\" source: true }\n"
           "table { name: \"build\" upstream: \"src\" sink: \"pg\"\n"
           "  sql: \"INSERT INTO \\\"%s\\\".built VALUES ({partition})\" }\n"
           "table { name: \"other\" upstream: \"src\" }\n",
           schema);
  CHECK_OK(landfall_scheduler_open_text(spec, strlen(spec), NULL, "memory:", &s,
                                        &err));
  landfall_runner_options_set_idle_poll_ms(options, 20);
  /* A sink the spec does not declare is refused, running nothing. */
  landfall_runner_options_set_spec_sinks(options, 1);
  landfall_runner_options_set_sink_conninfo(options, "nope", server);
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_runner_create(s, options, CountRun, &callback_runs, NULL,
                                    &r, &err));
  CHECK_CONTAINS(err, "nope");
  landfall_runner_options_destroy(options);
  options = landfall_runner_options_create();
  landfall_runner_options_set_idle_poll_ms(options, 20);
  landfall_runner_options_set_spec_sinks(options, 1);
  landfall_runner_options_set_sink_conninfo(options, "pg", server);
  CHECK_OK(landfall_runner_create(s, options, CountRun, &callback_runs, NULL,
                                  &r, &err));
  landfall_runner_options_destroy(options);
  CHECK_OK(landfall_runner_start(r, &err));
  CHECK_OK(landfall_ingest(s, "e1", "src", "2018-11-03'; --", NULL, NULL, NULL,
                           &err));
  landfall_runner_notify(r);
  CHECK_OK(landfall_runner_wait_idle(r, 100, 30000, &summary, &err));
  CHECK(landfall_run_summary_idle(summary) == 1);
  CHECK(landfall_run_summary_tasks(summary, LANDFALL_TASK_SUCCEEDED) == 2);
  landfall_run_summary_destroy(summary);
  landfall_runner_destroy(r);
  landfall_scheduler_close(s);
  CHECK(callback_runs == 1);
  snprintf(sql, sizeof(sql), "SELECT p FROM \"%s\".built", schema);
  Query(server, sql, count, sizeof(count));
  CHECK(strcmp(count, "2018-11-03'; --") == 0);
}

int main(void) {
  const char* server = getenv("LANDFALL_TEST_POSTGRES");
  const char* ci = getenv("CI");
  pid_t child;
  int status = 0;
  if (server == NULL || *server == '\0') {
    if (ci != NULL && strcmp(ci, "true") == 0) {
      fprintf(stderr,
              "CI=true but LANDFALL_TEST_POSTGRES is not set: .ci/test "
              "starts the server with .ci/postgres\n");
      return 1;
    }
    printf(
        "skipped: no PostgreSQL server: set LANDFALL_TEST_POSTGRES (eval "
        "\"$(bash .ci/postgres start && bash .ci/postgres env)\")\n");
    return SKIPPED;
  }
  test_server = server;
  snprintf(test_schema, sizeof(test_schema), "capi_test_%ld_%ld",
           (long)getpid(), (long)time(NULL));
  /* The test runs in a child, so that its schema is dropped even when a
   * check exits or the child crashes. */
  child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    TestPostgresStore(server, test_schema);
    TestSpecSinks(server, test_schema);
    landfall_free(err);
    printf("capi_postgres_test: all passed\n");
    return 0;
  }
  CHECK(waitpid(child, &status, 0) == child);
  DropTestSchema();
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
