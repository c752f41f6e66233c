/* The C API from plain C: every function, its documented error paths and
 * messages, the callbacks' ownership rules. Exits non-zero on the first
 * failed check. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "landfall/landfall.h"
#include "tests/capi/capi_check.h"

static const char kSpec[] =
    "name: \"capi\"\n"
    "priority_class { name: \"etl\" }\n"
    "priority_class { name: \"mart\" }\n"
    "pool { name: \"wh\" slots: 4 }\n"
    "defaults { pool: \"wh\" priority_class: \"etl\" lease: \"10m\"\n"
    "  retry { max_attempts: 2 initial_backoff: \"1h\" } }\n"
    "table { name: \"src\" source: true }\n"
    "table { name: \"load\" upstream: \"src\" sink: \"copy\" }\n"
    "table { name: \"report\" upstream: \"load\" priority_class: \"mart\" }\n";

static landfall_scheduler_t* OpenMemory(void) {
  landfall_scheduler_t* s = NULL;
  CHECK_OK(landfall_scheduler_open_text(kSpec, strlen(kSpec), "capi.textproto",
                                        "memory:", &s, &err));
  CHECK(s != NULL);
  return s;
}

static int CountLines(const char* text) {
  int n = 0;
  for (; *text != '\0'; ++text) n += *text == '\n';
  return n;
}

static void SleepMs(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* Claims exactly one task of `table` and returns its attempt number. */
static int64_t ClaimOne(landfall_scheduler_t* s, const char* table,
                        const char* partition) {
  landfall_claims_t* claims = NULL;
  const landfall_task_t* task;
  int64_t attempt;
  CHECK_OK(landfall_claim(s, "w1", 1, NULL, 0, NULL, 0, &claims, &err));
  CHECK(landfall_claims_count(claims) == 1);
  task = landfall_claims_at(claims, 0);
  CHECK(strcmp(landfall_task_table(task), table) == 0);
  CHECK(strcmp(landfall_task_partition(task), partition) == 0);
  attempt = landfall_task_attempt(task);
  landfall_claims_destroy(claims);
  return attempt;
}

static void TestCodesVersionFree(void) {
  CHECK(LANDFALL_OK == 0);
  CHECK(strcmp(landfall_status_name(LANDFALL_OK), "OK") == 0);
  CHECK(strcmp(landfall_status_name(LANDFALL_INVALID_ARGUMENT),
               "INVALID_ARGUMENT") == 0);
  CHECK(strcmp(landfall_status_name(LANDFALL_FAILED_PRECONDITION),
               "FAILED_PRECONDITION") == 0);
  CHECK(strcmp(landfall_status_name(LANDFALL_UNAUTHENTICATED),
               "UNAUTHENTICATED") == 0);
  CHECK(strcmp(landfall_status_name(-1), "UNRECOGNIZED") == 0);
  CHECK(strcmp(landfall_status_name(17), "UNRECOGNIZED") == 0);
  CHECK(strchr(landfall_version(), '.') != NULL);
  landfall_free(NULL);
}

static void TestOpenErrors(void) {
  landfall_scheduler_t* s = NULL;
  char path[] = "/nonexistent/spec.textproto";
  static const char kBad[] =
      "name: \"bad\"\ntable { name: \"a\" upstream: \"nowhere\" }\n";

  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_scheduler_open_text(kSpec, strlen(kSpec), NULL, "nope:x",
                                          &s, &err));
  CHECK_CONTAINS(err, "nope:x");
  CHECK(s == NULL);
  /* The same variable serves the next call: its message is replaced. */
  CHECK_CODE(LANDFALL_NOT_FOUND,
             landfall_scheduler_open(path, "memory:", &s, &err));
  CHECK_CONTAINS(err, path);
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_scheduler_open_text(kBad, strlen(kBad), "bad.textproto",
                                          "memory:", &s, &err));
  CHECK_CONTAINS(err, "bad.textproto:2");
  CHECK_CONTAINS(err, "nowhere");
  /* A directory is no spec file: not a reason to retry. */
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_scheduler_open("/tmp", "memory:", &s, &err));
  CHECK_CONTAINS(err, "/tmp is a directory");
  CHECK(s == NULL);
  /* A new memory store holds no pipeline to run. */
  CHECK_CODE(LANDFALL_FAILED_PRECONDITION,
             landfall_scheduler_open(NULL, "memory:", &s, &err));
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_scheduler_open(path, NULL, &s, &err));
  CHECK_CONTAINS(err, "landfall_scheduler_open: store_uri is NULL");
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_scheduler_open_text(NULL, 0, NULL, "memory:", &s, &err));
  CHECK_CONTAINS(err, "spec is NULL");
  CHECK(s == NULL);
  /* Success clears the message left by the failure before. */
  s = OpenMemory();
  CHECK(err == NULL);
  CHECK(strcmp(landfall_pipeline_name(s), "capi") == 0);
  landfall_scheduler_close(s);
  landfall_scheduler_close(NULL);
  /* Without errmsg the code alone tells. */
  CHECK(landfall_scheduler_open(path, "memory:", &s, NULL) ==
        LANDFALL_NOT_FOUND);
}

static void TestPipelineWarnings(void) {
  static const char kQuiet[] = "table { name: \"src\" source: true }\n";
  landfall_scheduler_t* s = OpenMemory();
  const char* warnings = landfall_pipeline_warnings(s);
  /* kSpec's initial_backoff of 1h is above the default max_backoff. */
  CHECK_CONTAINS(warnings,
                 "capi.textproto:6:27: warning: defaults: "
                 "retry.initial_backoff (1h) exceeds retry.max_backoff (15m)");
  CHECK(CountLines(warnings) == 1);
  landfall_scheduler_close(s);
  CHECK_OK(landfall_scheduler_open_text(kQuiet, strlen(kQuiet), NULL,
                                        "memory:", &s, &err));
  CHECK(strcmp(landfall_pipeline_warnings(s), "") == 0);
  landfall_scheduler_close(s);
  CHECK(landfall_pipeline_warnings(NULL) == NULL);
}

/* A scheduler on a new state file in a new temporary directory, after one
 * arrival: `dir` (a mkdtemp template, filled in), `file` (64 bytes) its
 * path, `uri` (80 bytes) "sqlite:PATH". */
static landfall_scheduler_t* OpenStateFile(char* dir, char* file, char* uri) {
  landfall_scheduler_t* s = NULL;
  CHECK(mkdtemp(dir) != NULL);
  snprintf(file, 64, "%s/state.db", dir);
  snprintf(uri, 80, "sqlite:%s", file);
  CHECK_OK(
      landfall_scheduler_open_text(kSpec, strlen(kSpec), NULL, uri, &s, &err));
  CHECK_OK(
      landfall_ingest(s, "e1", "src", "2018-11-03", NULL, NULL, NULL, &err));
  return s;
}

/* Removes the state file of OpenStateFile, its side files and `dir`. */
static void RemoveStateFile(const char* dir, const char* file) {
  char side[80];
  static const char* const kSides[] = {"-wal", "-shm", "-queue"};
  size_t i;
  remove(file);
  for (i = 0; i < sizeof(kSides) / sizeof(kSides[0]); ++i) {
    snprintf(side, sizeof(side), "%s%s", file, kSides[i]);
    remove(side);
  }
  CHECK(rmdir(dir) == 0);
}

static void TestSqliteReopens(void) {
  char dir[] = "/tmp/landfall_capi_XXXXXX";
  char file[64], uri[80];
  landfall_scheduler_t* s = NULL;
  int64_t seq;
  s = OpenStateFile(dir, file, uri);
  seq = landfall_last_sequence(s);
  CHECK(seq >= 2); /* The arrival, and load becoming ready. */
  landfall_scheduler_close(s);

  /* Without a spec it runs the one the store holds, with its state. */
  s = NULL;
  CHECK_OK(landfall_scheduler_open(NULL, uri, &s, &err));
  CHECK(strcmp(landfall_pipeline_name(s), "capi") == 0);
  CHECK(landfall_last_sequence(s) == seq);
  CHECK(ClaimOne(s, "load", "2018-11-03") == 1);
  landfall_scheduler_close(s);

  RemoveStateFile(dir, file);
}

static void TestSqliteReadOnly(void) {
  char dir[] = "/tmp/landfall_capi_XXXXXX";
  char file[64], uri[80], missing[96];
  landfall_scheduler_t* s = OpenStateFile(dir, file, uri);
  char* text = NULL;
  const int64_t seq = landfall_last_sequence(s);
  landfall_scheduler_close(s);

  s = NULL;
  CHECK_OK(landfall_scheduler_open_read_only(uri, &s, &err));
  CHECK(strcmp(landfall_pipeline_name(s), "capi") == 0);
  CHECK(landfall_last_sequence(s) == seq);
  CHECK_OK(landfall_status(s, "load", "READY", &text, &err));
  CHECK(CountLines(text) == 1);
  landfall_free(text);
  CHECK_CODE(
      LANDFALL_PERMISSION_DENIED,
      landfall_ingest(s, "e2", "src", "2018-11-04", NULL, NULL, NULL, &err));
  CHECK_CONTAINS(err, "read-only");
  CHECK(landfall_last_sequence(s) == seq);
  landfall_scheduler_close(s);

  /* A missing file is not created, nor by opening without a spec. */
  snprintf(missing, sizeof(missing), "sqlite:%s/missing.db", dir);
  s = NULL;
  CHECK_CODE(LANDFALL_NOT_FOUND,
             landfall_scheduler_open_read_only(missing, &s, &err));
  CHECK(s == NULL);
  CHECK_CODE(LANDFALL_NOT_FOUND,
             landfall_scheduler_open(NULL, missing, &s, &err));
  CHECK_CONTAINS(err, "missing.db");
  CHECK(s == NULL);
  CHECK(access(missing + 7, F_OK) != 0);
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_scheduler_open_read_only("memory:", &s, &err));
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_scheduler_open_read_only(NULL, &s, &err));
  RemoveStateFile(dir, file);
}

static void TestIngest(void) {
  landfall_scheduler_t* s = OpenMemory();
  int duplicate = -1;
  char* results = NULL;
  int64_t seq;
  static const char kLines[] =
      "{\"event_id\":\"e2\",\"table\":\"src\",\"partition\":\"2018-11-04\","
      "\"at\":\"2018-11-05T01:00:00Z\",\"attributes\":{\"rows\":\"10\"}}\n"
      "\n"
      "{\"event_id\":\"e1\",\"table\":\"src\",\"partition\":\"2018-11-03\"}\n";
  static const char kArray[] =
      " [{\"event_id\":\"e3\",\"table\":\"src\",\"partition\":\"2018-11-05\"},"
      "{\"event_id\":\"e4\",\"table\":\"src\",\"partition\":\"2018-11-06\"}]";
  static const char kBadLine[] =
      "{\"event_id\":\"e5\",\"table\":\"src\",\"partition\":\"2018-11-07\"}\n"
      "{\"event_id\": oops}\n";
  static const char kUnknown[] =
      "[{\"event_id\":\"e6\",\"table\":\"src\",\"partition\":\"2018-11-08\"},"
      "{\"event_id\":\"e7\",\"table\":\"nope\",\"partition\":\"x\"}]";

  CHECK_OK(landfall_ingest(s, "e1", "src", "2018-11-03", "2018-11-04T01:00:00Z",
                           "s3://lake/src/1", &duplicate, &err));
  CHECK(duplicate == 0);
  CHECK_OK(landfall_ingest(s, "e1", "src", "2018-11-03", NULL, NULL, &duplicate,
                           &err));
  CHECK(duplicate == 1);

  /* Bad input changes nothing. */
  seq = landfall_last_sequence(s);
  CHECK_CODE(
      LANDFALL_INVALID_ARGUMENT,
      landfall_ingest(s, "e9", "nope", "2018-11-03", NULL, NULL, NULL, &err));
  CHECK_CONTAINS(err, "unknown table \"nope\"");
  CHECK_CODE(
      LANDFALL_INVALID_ARGUMENT,
      landfall_ingest(s, "e9", "loads", "2018-11-03", NULL, NULL, NULL, &err));
  CHECK_CONTAINS(err, "unknown table \"loads\" (did you mean \"load\"?)");
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_ingest(s, "e9", "src", "2018-11-03", "yesterday", NULL,
                             NULL, &err));
  CHECK_CONTAINS(err, "bad time \"yesterday\"");
  CHECK_CODE(
      LANDFALL_INVALID_ARGUMENT,
      landfall_ingest(s, "", "src", "2018-11-03", NULL, NULL, NULL, &err));
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_ingest(s, "e9", "src", NULL, NULL, NULL, NULL, &err));
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_ingest(s, NULL, "src", "p", NULL, NULL, NULL, &err));
  CHECK_CONTAINS(err, "landfall_ingest: event_id is NULL");
  CHECK_CODE(
      LANDFALL_INVALID_ARGUMENT,
      landfall_ingest_json(s, kBadLine, strlen(kBadLine), &results, &err));
  CHECK_CONTAINS(err, "line 2");
  CHECK(results == NULL);
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_ingest_json(s, kUnknown, strlen(kUnknown), NULL, &err));
  CHECK_CONTAINS(err, "nope");
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_ingest_json(s, "[1,", 3, NULL, &err));
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_ingest_json(s, "[{\"tabel\":\"src\"}]", 17, NULL, &err));
  CHECK_CONTAINS(err, "element 1");
  CHECK(landfall_last_sequence(s) == seq);

  /* JSON lines: blank lines skipped, one result line per arrival. */
  CHECK_OK(landfall_ingest_json(s, kLines, strlen(kLines), &results, &err));
  CHECK(CountLines(results) == 2);
  CHECK_CONTAINS(results,
                 "{\"event_id\":\"e2\",\"duplicate\":false,\"made_ready\":"
                 "[{\"table\":\"load\",\"partition\":\"2018-11-04\"}]}\n");
  CHECK_CONTAINS(results, "{\"event_id\":\"e1\",\"duplicate\":true");
  landfall_free(results);
  /* A JSON array, without results wanted; the length bounds the text. */
  CHECK_OK(landfall_ingest_json(s, kArray, strlen(kArray), NULL, &err));
  CHECK_OK(landfall_ingest_json(s, kArray, 0, NULL, &err));

  CHECK_OK(landfall_read_history(s, 1, 100, &results, &err));
  CHECK_CONTAINS(results, "\"attributes\":{\"rows\":\"10\"}");
  CHECK_CONTAINS(results, "\"landed_at\":\"2018-11-05T01:00:00Z\"");
  CHECK_CONTAINS(results, "\"origin\":\"s3://lake/src/1\"");
  landfall_free(results);
  landfall_scheduler_close(s);
}

static void TestClaimHeartbeatComplete(void) {
  landfall_scheduler_t* s = OpenMemory();
  landfall_claims_t* claims = NULL;
  const landfall_task_t* task;
  const char* etl[] = {"etl"};
  const char* bad_pool[] = {"nope"};
  const char* bad_class[] = {"vip"};
  const char* null_name[] = {"wh", NULL};
  int64_t attempt;

  CHECK_OK(landfall_ingest(s, "e1", "src", "2018-11-03", NULL,
                           "s3://lake/src/1.csv", NULL, &err));
  CHECK_OK(landfall_ingest(s, "e2", "src", "2018-11-03", NULL,
                           "s3://lake/src/2.csv", NULL, &err));
  CHECK_CODE(LANDFALL_NOT_FOUND,
             landfall_claim(s, "w1", 5, bad_pool, 1, NULL, 0, &claims, &err));
  CHECK_CONTAINS(err, "unknown pool \"nope\"");
  CHECK_CODE(LANDFALL_NOT_FOUND,
             landfall_claim(s, "w1", 5, NULL, 0, bad_class, 1, &claims, &err));
  CHECK_CONTAINS(err, "unknown priority class \"vip\"");
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_claim(s, "w1", 5, NULL, 1, NULL, 0, &claims, &err));
  CHECK_CONTAINS(err, "pools is NULL");
  /* A NULL name is the caller's mistake, not an unknown pool or class. */
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_claim(s, "w1", 5, null_name, 2, NULL, 0, &claims, &err));
  CHECK_CONTAINS(err, "landfall_claim: pools[1] is NULL");
  CHECK_CODE(
      LANDFALL_INVALID_ARGUMENT,
      landfall_claim(s, "w1", 5, NULL, 0, null_name + 1, 1, &claims, &err));
  CHECK_CONTAINS(err, "landfall_claim: classes[0] is NULL");
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_claim(s, NULL, 5, NULL, 0, NULL, 0, &claims, &err));
  CHECK(claims == NULL);

  CHECK_OK(landfall_claim(s, "w1", 5, NULL, 0, etl, 1, &claims, &err));
  CHECK(landfall_claims_count(claims) == 1);
  CHECK(landfall_claims_at(claims, 1) == NULL);
  task = landfall_claims_at(claims, 0);
  CHECK(strcmp(landfall_task_table(task), "load") == 0);
  CHECK(strcmp(landfall_task_partition(task), "2018-11-03") == 0);
  CHECK(landfall_task_attempt(task) == 1);
  CHECK(strcmp(landfall_task_pool(task), "wh") == 0);
  CHECK(strcmp(landfall_task_class(task), "etl") == 0);
  CHECK(strcmp(landfall_task_sink(task), "copy") == 0);
  CHECK(landfall_task_lease_deadline(task)[19] != '\0');
  CHECK_CONTAINS(landfall_task_lease_deadline(task), "Z");
  CHECK_CONTAINS(landfall_task_inputs_json(task),
                 "[{\"table\":\"src\",\"partition\":\"2018-11-03\","
                 "\"version\":2,\"origins\":[\"s3://lake/src/1.csv\","
                 "\"s3://lake/src/2.csv\"],\"origins_complete\":true}]");
  /* The objects landed since the task last consumed src: a loader's list. */
  CHECK(landfall_task_origin_count(task) == 2);
  CHECK(strcmp(landfall_task_origin(task, 0), "s3://lake/src/1.csv") == 0);
  CHECK(strcmp(landfall_task_origin(task, 1), "s3://lake/src/2.csv") == 0);
  CHECK(landfall_task_origin(task, 2) == NULL);
  CHECK(landfall_task_origins_complete(task) == 1);
  CHECK(landfall_task_cancelled(task) == 0);
  attempt = landfall_task_attempt(task);
  landfall_claims_destroy(claims);
  CHECK(landfall_task_table(NULL) == NULL);
  CHECK(landfall_task_origin_count(NULL) == 0);
  CHECK(landfall_task_origin(NULL, 0) == NULL);
  CHECK(landfall_task_origins_complete(NULL) == 0);
  CHECK(landfall_claims_count(NULL) == 0);
  landfall_claims_destroy(NULL);

  /* Nothing more to claim; max 0 claims nothing. */
  CHECK_OK(landfall_claim(s, "w1", 5, NULL, 0, NULL, 0, &claims, &err));
  CHECK(landfall_claims_count(claims) == 0);
  landfall_claims_destroy(claims);
  CHECK_OK(landfall_claim(s, "w1", 0, NULL, 0, NULL, 0, &claims, &err));
  landfall_claims_destroy(claims);

  CHECK_OK(landfall_heartbeat(s, "load", "2018-11-03", attempt, &err));
  CHECK_CODE(LANDFALL_FAILED_PRECONDITION,
             landfall_heartbeat(s, "load", "2018-11-03", attempt + 1, &err));
  CHECK_CONTAINS(err, "stale");
  CHECK_CODE(LANDFALL_NOT_FOUND,
             landfall_heartbeat(s, "load", "2030-01-01", 1, &err));
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_heartbeat(s, NULL, "2018-11-03", 1, &err));
  CHECK_CODE(
      LANDFALL_INVALID_ARGUMENT,
      landfall_complete(s, "load", "2018-11-03", attempt, 42, NULL, &err));
  CHECK_CONTAINS(err, "unknown outcome 42");
  CHECK_OK(landfall_complete(s, "load", "2018-11-03", attempt,
                             LANDFALL_SUCCEEDED, "loaded 10 rows", &err));
  /* Repeated (a reply was lost): done; another outcome is refused. */
  CHECK_OK(landfall_complete(s, "load", "2018-11-03", attempt,
                             LANDFALL_SUCCEEDED, NULL, &err));
  CHECK_CODE(LANDFALL_FAILED_PRECONDITION,
             landfall_complete(s, "load", "2018-11-03", attempt, LANDFALL_FATAL,
                               NULL, &err));
  CHECK_CONTAINS(err, "already ended: it succeeded");

  /* The success made the report ready, of the mart class. */
  attempt = ClaimOne(s, "report", "2018-11-03");
  CHECK_OK(landfall_complete(s, "report", "2018-11-03", attempt,
                             LANDFALL_RETRYABLE, "warehouse busy", &err));
  landfall_scheduler_close(s);
}

static void TestQueries(void) {
  landfall_scheduler_t* s = OpenMemory();
  char* text = NULL;
  int64_t attempt;

  CHECK_OK(
      landfall_ingest(s, "e1", "src", "2018-11-03", NULL, NULL, NULL, &err));
  CHECK_OK(
      landfall_ingest(s, "e2", "src", "2018-11-04", NULL, NULL, NULL, &err));
  attempt = ClaimOne(s, "load", "2018-11-03");
  CHECK_OK(landfall_complete(s, "load", "2018-11-03", attempt, LANDFALL_FATAL,
                             "bad rows", &err));

  CHECK_OK(landfall_explain(s, "load", "2018-11-03", &text, &err));
  CHECK_CONTAINS(text, "load/2018-11-03 DEAD");
  CHECK_CONTAINS(text, "bad rows");
  landfall_free(text);
  CHECK_CODE(LANDFALL_NOT_FOUND,
             landfall_explain(s, "nope", "2018-11-03", &text, &err));
  CHECK_CONTAINS(err, "nope");
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_explain(s, "load", "2018-11-03", NULL, &err));

  CHECK_OK(landfall_status(s, NULL, NULL, &text, &err));
  CHECK(CountLines(text) == 3);
  CHECK_CONTAINS(text,
                 "{\"table\":\"load\",\"partition\":\"2018-11-03\","
                 "\"state\":\"DEAD\",\"attempt\":1,");
  CHECK_CONTAINS(text, "\"last_error\":\"bad rows\"");
  landfall_free(text);
  CHECK_OK(landfall_status(s, "load", "READY", &text, &err));
  CHECK(CountLines(text) == 1);
  CHECK_CONTAINS(text, "\"partition\":\"2018-11-04\",\"state\":\"READY\"");
  landfall_free(text);
  /* The report needs the dead load. */
  CHECK_OK(landfall_status(s, "report", NULL, &text, &err));
  CHECK_CONTAINS(text, "\"partition\":\"2018-11-03\",\"state\":\"BLOCKED\"");
  landfall_free(text);
  CHECK_OK(landfall_status(s, "src", NULL, &text, &err));
  CHECK(strcmp(text, "") == 0);
  landfall_free(text);
  CHECK_CODE(LANDFALL_NOT_FOUND, landfall_status(s, "nope", NULL, &text, &err));
  CHECK_CONTAINS(err, "unknown table \"nope\"");
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_status(s, NULL, "SLEEPING", &text, &err));
  CHECK_CONTAINS(err, "unknown state \"SLEEPING\"");
  CHECK_CONTAINS(err, "PAUSED, SUCCEEDED, EXPIRED");

  CHECK_OK(landfall_read_history(s, 1, 1000, &text, &err));
  CHECK(CountLines(text) == landfall_last_sequence(s));
  CHECK(strncmp(text, "{\"seq\":1,", 9) == 0);
  CHECK_CONTAINS(text, "\"kind\":\"dead\"");
  CHECK_CONTAINS(text, "\"outcome\":\"FATAL\"");
  /* A claim says when its task became ready, an attempt's end its claim. */
  CHECK_CONTAINS(text, "\"kind\":\"claimed\"");
  CHECK_CONTAINS(text, "\"ready_at\":\"");
  CHECK_CONTAINS(text, "\"claim_seq\":");
  landfall_free(text);
  /* Below 1 reads from 1. */
  CHECK_OK(landfall_read_history(s, INT64_MIN, 1, &text, &err));
  CHECK(strncmp(text, "{\"seq\":1,", 9) == 0 && CountLines(text) == 1);
  landfall_free(text);
  CHECK_OK(landfall_read_history(s, 2, 1, &text, &err));
  CHECK(strncmp(text, "{\"seq\":2,", 9) == 0 && CountLines(text) == 1);
  landfall_free(text);
  CHECK_OK(
      landfall_read_history(s, landfall_last_sequence(s) + 1, 10, &text, &err));
  CHECK(strcmp(text, "") == 0);
  landfall_free(text);
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_read_history(NULL, 1, 10, &text, &err));
  CHECK(landfall_last_sequence(NULL) == 0);
  landfall_scheduler_close(s);
}

static void TestOperations(void) {
  landfall_scheduler_t* s = OpenMemory();
  landfall_claims_t* claims = NULL;
  int64_t attempt;

  CHECK_OK(
      landfall_ingest(s, "e1", "src", "2018-11-03", NULL, NULL, NULL, &err));
  attempt = ClaimOne(s, "load", "2018-11-03");
  CHECK_CODE(LANDFALL_FAILED_PRECONDITION,
             landfall_redrive(s, "load", "2018-11-03", &err));
  CHECK_CONTAINS(err, "RUNNING");
  CHECK_OK(landfall_complete(s, "load", "2018-11-03", attempt, LANDFALL_FATAL,
                             NULL, &err));
  CHECK_CODE(LANDFALL_NOT_FOUND, landfall_redrive(s, "nope", "x", &err));
  CHECK_OK(landfall_redrive(s, "load", "2018-11-03", &err));
  CHECK(ClaimOne(s, "load", "2018-11-03") == attempt + 1);
  CHECK_OK(landfall_complete(s, "load", "2018-11-03", attempt + 1,
                             LANDFALL_FATAL, NULL, &err));
  CHECK_OK(landfall_mark_succeeded(s, "load", "2018-11-03", &err));
  CHECK_CODE(LANDFALL_NOT_FOUND,
             landfall_mark_succeeded(s, "nope", NULL, &err));

  /* The report is ready; its class paused, nothing is claimed. */
  CHECK_OK(landfall_pause_class(s, "mart", &err));
  CHECK_CODE(LANDFALL_NOT_FOUND, landfall_pause_class(s, "vip", &err));
  CHECK_OK(landfall_claim(s, "w1", 5, NULL, 0, NULL, 0, &claims, &err));
  CHECK(landfall_claims_count(claims) == 0);
  landfall_claims_destroy(claims);
  CHECK_OK(landfall_resume_class(s, "mart", &err));
  CHECK_CODE(LANDFALL_NOT_FOUND, landfall_resume_class(s, "vip", &err));
  CHECK_OK(landfall_pause_table(s, "report", &err));
  CHECK_CODE(LANDFALL_NOT_FOUND, landfall_pause_table(s, "nope", &err));
  CHECK_OK(landfall_claim(s, "w1", 5, NULL, 0, NULL, 0, &claims, &err));
  CHECK(landfall_claims_count(claims) == 0);
  landfall_claims_destroy(claims);
  CHECK_OK(landfall_resume_table(s, "report", &err));
  CHECK_CODE(LANDFALL_NOT_FOUND, landfall_resume_table(s, "nope", &err));
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT, landfall_pause_table(s, NULL, &err));
  attempt = ClaimOne(s, "report", "2018-11-03");
  CHECK_OK(landfall_complete(s, "report", "2018-11-03", attempt,
                             LANDFALL_SUCCEEDED, NULL, &err));

  /* A rerun builds the load again, and after it the report. */
  CHECK_OK(landfall_rerun(s, "load", "2018-11-03", 1, &err));
  CHECK_CODE(LANDFALL_NOT_FOUND, landfall_rerun(s, "nope", "x", 0, &err));
  CHECK(ClaimOne(s, "load", "2018-11-03") == 3);
  landfall_scheduler_close(s);
}

/* What a subscription saw. */
struct Seen {
  int entries;
  long long last_seq;
  int ordered;
  int destroyed;
};

/* A spec in a temporary file, whose path goes to `path`. */
static void WriteSpec(const char* text, char* path) {
  strcpy(path, "/tmp/landfall_capi_spec_XXXXXX");
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  close(fd);
}

static void TestDeploy(void) {
  landfall_scheduler_t* s = OpenMemory();
  char path[64];
  char* plan = NULL;
  const char* adopt[] = {"report"};
  const char* none[] = {NULL};
  int64_t attempt;
  /* The report also reads src: a change of how its states are derived. */
  char joined[sizeof(kSpec) + 64];
  strcpy(joined, kSpec);
  strcpy(strstr(joined, "upstream: \"load\""),
         "upstream: [\"load\", \"src\"] priority_class: \"mart\" }\n");
  WriteSpec(joined, path);
  CHECK_OK(
      landfall_ingest(s, "e1", "src", "2018-11-03", NULL, NULL, NULL, &err));
  attempt = ClaimOne(s, "load", "2018-11-03");
  CHECK_OK(landfall_complete(s, "load", "2018-11-03", attempt,
                             LANDFALL_SUCCEEDED, NULL, &err));
  attempt = ClaimOne(s, "report", "2018-11-03");
  CHECK_OK(landfall_complete(s, "report", "2018-11-03", attempt,
                             LANDFALL_SUCCEEDED, NULL, &err));

  CHECK_CODE(LANDFALL_FAILED_PRECONDITION,
             landfall_deploy(s, path, NULL, 0, NULL, 0, 0, &plan, &err));
  CHECK_CONTAINS(err, "table \"report\" has task states");
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_deploy(s, path, none, 1, NULL, 0, 0, &plan, &err));
  CHECK_CONTAINS(err, "adopt[0] is NULL");
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_deploy(s, path, NULL, 0, NULL, 0, 8, &plan, &err));
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_deploy(s, path, NULL, 0, adopt, 1, 0, NULL, &err));
  /* Dry: the plan, and nothing written. */
  CHECK_OK(landfall_deploy(s, path, NULL, 0, adopt, 1, LANDFALL_DEPLOY_DRY_RUN,
                           &plan, &err));
  CHECK_CONTAINS(plan,
                 "\"dry_run\":true,\"changed\":true,\"summary\":\"1 table "
                 "changed (report)\"");
  CHECK_CONTAINS(plan,
                 "\"made_ready\":[{\"table\":\"report\",\"partition\":"
                 "\"2018-11-03\"}]");
  landfall_free(plan);
  CHECK_OK(landfall_deploy(s, path, adopt, 1, NULL, 0, 0, &plan, &err));
  CHECK_CONTAINS(plan, "\"made_ready\":[]");
  landfall_free(plan);
  CHECK_OK(landfall_status(s, "report", "SUCCEEDED", &plan, &err));
  CHECK(CountLines(plan) == 1);
  landfall_free(plan);
  unlink(path);
  landfall_scheduler_close(s);
}

static void OnEntry(void* state, const char* json, size_t len) {
  struct Seen* seen = state;
  long long seq = -1;
  CHECK(strlen(json) == len && json[len - 1] == '}');
  CHECK(sscanf(json, "{\"seq\":%lld,", &seq) == 1);
  if (seq != seen->last_seq + 1) seen->ordered = 0;
  seen->last_seq = seq;
  ++seen->entries;
}

static void Destroy(void* state) { ++((struct Seen*)state)->destroyed; }

static void TestSubscriptions(void) {
  landfall_scheduler_t* s = OpenMemory();
  struct Seen all = {0, 0, 1, 0}, late = {0, 0, 1, 0}, failed = {0, 0, 1, 0};
  uint64_t all_id = 0, late_id = 0;
  int64_t seq;

  CHECK_OK(
      landfall_ingest(s, "e1", "src", "2018-11-03", NULL, NULL, NULL, &err));
  seq = landfall_last_sequence(s);
  /* From 1: the held entries first, before the call returns. */
  CHECK_OK(landfall_subscribe(s, 1, OnEntry, &all, Destroy, &all_id, &err));
  CHECK(all.entries == seq && all.last_seq == seq);
  /* From the next one: only what comes. */
  late.last_seq = seq;
  CHECK_OK(
      landfall_subscribe(s, seq + 1, OnEntry, &late, Destroy, &late_id, &err));
  CHECK(late.entries == 0 && late_id != all_id);
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_subscribe(s, 1, NULL, &failed, Destroy, &all_id, &err));
  CHECK_CONTAINS(err, "on_entry is NULL");

  CHECK_OK(
      landfall_ingest(s, "e2", "src", "2018-11-04", NULL, NULL, NULL, &err));
  CHECK(all.last_seq == landfall_last_sequence(s));
  CHECK(late.entries == landfall_last_sequence(s) - seq);
  CHECK(all.ordered && late.ordered);

  CHECK_OK(landfall_unsubscribe(s, all_id, &err));
  CHECK(all.destroyed == 1);
  CHECK_CODE(LANDFALL_NOT_FOUND, landfall_unsubscribe(s, all_id, &err));
  CHECK_CONTAINS(err, "no subscription");
  seq = all.entries;
  CHECK_OK(
      landfall_ingest(s, "e3", "src", "2018-11-05", NULL, NULL, NULL, &err));
  CHECK(all.entries == seq && late.ordered);

  /* Closing drops the subscriptions left; a failed one is never touched. */
  landfall_scheduler_close(s);
  CHECK(late.destroyed == 1 && all.destroyed == 1);
  CHECK(failed.entries == 0 && failed.destroyed == 0);
}

/* The runner's executor: succeeds, fails with a message, returns no
 * outcome, or waits until cancelled, by partition. */
struct Executor {
  int calls;
  int destroyed;
};

static int Execute(void* state, const landfall_task_t* task, char* message,
                   size_t message_size) {
  struct Executor* executor = state;
  const char* partition = landfall_task_partition(task);
  int waited = 0;
  __sync_fetch_and_add(&executor->calls, 1);
  CHECK(message[0] == '\0' && message_size > 64);
  if (strcmp(partition, "2018-11-04") == 0) return 99;
  if (strcmp(partition, "2018-11-05") == 0) {
    while (!landfall_task_cancelled(task) && waited++ < 10000) SleepMs(1);
    return LANDFALL_SUCCEEDED;
  }
  snprintf(message, message_size, "built %s/%s attempt %lld",
           landfall_task_table(task), partition,
           (long long)landfall_task_attempt(task));
  return LANDFALL_SUCCEEDED;
}

static void DestroyExecutor(void* state) {
  ++((struct Executor*)state)->destroyed;
}

/* A corrupt history entry under an open handle: reading the history and a
 * subscription's catch-up fail with DATA_LOSS naming its sequence number.
 * Corrupts the file with the sqlite3 shell; skipped without one. */
static void TestCorruptHistory(void) {
  char dir[] = "/tmp/landfall_capi_XXXXXX";
  char file[64], uri[80], sql[200], seq_text[40];
  landfall_scheduler_t* s = NULL;
  struct Seen seen = {0, 0, 1, 0};
  uint64_t id = 0;
  char* text = NULL;
  int64_t seq;
  if (system("command -v sqlite3 >/dev/null 2>&1") != 0) {
    printf("capi_test: no sqlite3 shell, corrupt history not checked\n");
    return;
  }
  s = OpenStateFile(dir, file, uri);
  seq = landfall_last_sequence(s);
  snprintf(sql, sizeof(sql),
           "sqlite3 %s \"UPDATE history SET body = X'FFFF' WHERE seq = %lld\"",
           file, (long long)seq);
  CHECK(system(sql) == 0);
  snprintf(seq_text, sizeof(seq_text), "history entry %lld", (long long)seq);

  CHECK_CODE(LANDFALL_DATA_LOSS, landfall_read_history(s, 1, 100, &text, &err));
  CHECK_CONTAINS(err, seq_text);
  CHECK(text == NULL);
  CHECK_CODE(LANDFALL_DATA_LOSS,
             landfall_subscribe(s, 1, OnEntry, &seen, Destroy, &id, &err));
  CHECK_CONTAINS(err, seq_text);
  CHECK(seen.destroyed == 0);
  landfall_scheduler_close(s);

  RemoveStateFile(dir, file);
}

/* A spec's bigquery sink runs its tables itself when the options say so:
 * here its token command fails, so the attempt ends RETRYABLE (dead after
 * its one allowed attempt) with the command in the error, and the host's
 * callback never runs. No server is needed: the token comes first. */
static void TestBigQuerySpecSink(void) {
  static const char spec[] =
      "sink { name: \"bq\" bigquery { project: \"p\" endpoint: "
      "\"http://127.0.0.1:1\" token_command: \"exit 3\" } }\n"
      "table { name: \"src\" source: true }\n"
      "table { name: \"load\" upstream: \"src\" sink: \"bq\"\n"
      "  retry { max_attempts: 1 } sql: \"SELECT {partition}\" }\n";
  landfall_scheduler_t* s = NULL;
  landfall_runner_options_t* options = landfall_runner_options_create();
  landfall_runner_t* r = NULL;
  landfall_run_summary_t* summary = NULL;
  struct Executor executor = {0, 0};
  char* json = NULL;
  CHECK_OK(landfall_scheduler_open_text(spec, strlen(spec), "bq.textproto",
                                        "memory:", &s, &err));
  landfall_runner_options_set_idle_poll_ms(options, 20);
  landfall_runner_options_set_spec_sinks(options, 1);
  CHECK_OK(landfall_runner_create(s, options, Execute, &executor,
                                  DestroyExecutor, &r, &err));
  landfall_runner_options_destroy(options);
  CHECK_OK(landfall_runner_start(r, &err));
  CHECK_OK(
      landfall_ingest(s, "e1", "src", "2018-11-03", NULL, NULL, NULL, &err));
  landfall_runner_notify(r);
  CHECK_OK(landfall_runner_wait_idle(r, 50, 10000, &summary, &err));
  CHECK(landfall_run_summary_tasks(summary, LANDFALL_TASK_DEAD) == 1);
  CHECK(landfall_run_summary_attempts(summary, LANDFALL_RETRYABLE) == 1);
  landfall_run_summary_destroy(summary);
  landfall_runner_destroy(r);
  CHECK(executor.calls == 0 && executor.destroyed == 1);
  CHECK_OK(landfall_status(s, "load", NULL, &json, &err));
  CHECK_CONTAINS(json, "token_command `exit` exited with status 3");
  landfall_free(json);
  landfall_scheduler_close(s);
}

static void TestRunner(void) {
  landfall_scheduler_t* s = OpenMemory();
  landfall_runner_options_t* options = landfall_runner_options_create();
  landfall_runner_t* r = NULL;
  landfall_run_summary_t* summary = NULL;
  struct Executor executor = {0, 0};
  int64_t claimed = 0, succeeded = 0, failed = 0, abandoned = 0;
  int running = -1, waited = 0;
  char* text = NULL;

  landfall_runner_options_set_max_workers(options, 0);
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_runner_create(s, options, Execute, &executor,
                                    DestroyExecutor, &r, &err));
  CHECK_CONTAINS(err, "max_workers");
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_runner_create(s, NULL, NULL, &executor, DestroyExecutor,
                                    &r, &err));
  CHECK(r == NULL && executor.destroyed == 0);

  /* Each worker is a thread: past the cap is refused, not spawned. */
  landfall_runner_options_set_max_workers(options, LANDFALL_MAX_WORKERS + 1);
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_runner_create(s, options, Execute, &executor,
                                    DestroyExecutor, &r, &err));
  CHECK_CONTAINS(err, "max_workers must be 1 to 1024 (got 1025)");
  landfall_runner_options_set_max_workers(options, 4);
  /* An idle poll of no time would spin. */
  landfall_runner_options_set_idle_poll_ms(options, -5);
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_runner_create(s, options, Execute, &executor,
                                    DestroyExecutor, &r, &err));
  CHECK_CONTAINS(err, "idle_poll must be positive (got -5ms)");
  CHECK(r == NULL && executor.destroyed == 0);
  landfall_runner_options_set_worker(options, "c-host");
  landfall_runner_options_set_idle_poll_ms(options, 20);
  /* Metrics: an address without a port, and bad DogStatsD tags, are
   * refused; port 0 picks one. */
  landfall_runner_options_set_metrics_listen(options, "127.0.0.1");
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_runner_create(s, options, Execute, &executor,
                                    DestroyExecutor, &r, &err));
  CHECK_CONTAINS(err, "expected HOST:PORT");
  landfall_runner_options_set_metrics_listen(options, "127.0.0.1:0");
  landfall_runner_options_set_statsd(options, "127.0.0.1:9", "a|b");
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_runner_create(s, options, Execute, &executor,
                                    DestroyExecutor, &r, &err));
  CHECK_CONTAINS(err, "a|b");
  CHECK(r == NULL && executor.destroyed == 0);
  landfall_runner_options_set_statsd(options, NULL, NULL);
  CHECK_OK(landfall_runner_create(s, options, Execute, &executor,
                                  DestroyExecutor, &r, &err));
  CHECK(landfall_runner_metrics_port(r) > 0);
  CHECK(landfall_runner_metrics_port(NULL) == 0);
  landfall_runner_options_destroy(options);
  landfall_runner_options_destroy(NULL);
  CHECK_OK(
      landfall_ingest(s, "e1", "src", "2018-11-03", NULL, NULL, NULL, &err));
  CHECK_OK(
      landfall_ingest(s, "e2", "src", "2018-11-04", NULL, NULL, NULL, &err));
  /* An SQS source is checked when added; the queue is asked at start. */
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_runner_add_sqs_source(r, NULL, NULL, NULL, NULL, &err));
  CHECK_CODE(
      LANDFALL_INVALID_ARGUMENT,
      landfall_runner_add_sqs_source(r, "ftp://queue", NULL, NULL, NULL, &err));
  CHECK_CONTAINS(err, "ftp://queue");
  CHECK_OK(landfall_runner_start(r, &err));
  CHECK_CODE(LANDFALL_FAILED_PRECONDITION, landfall_runner_start(r, &err));
  CHECK_CODE(LANDFALL_FAILED_PRECONDITION,
             landfall_runner_add_sqs_source(r, "http://127.0.0.1:1/0/q", NULL,
                                            NULL, NULL, &err));
  landfall_runner_notify(r);

  /* load and report of 11-03 succeed; load of 11-04 fails. */
  while (waited++ < 10000) {
    landfall_runner_stats(r, &claimed, &succeeded, &failed, NULL, NULL);
    if (succeeded == 2 && failed == 1) break;
    SleepMs(1);
  }
  CHECK(succeeded == 2 && failed == 1);

  /* Idle: load and report of 11-03 built, load of 11-04 dead, and report of
   * 11-04 blocked behind it. */
  CHECK_OK(landfall_runner_wait_idle(r, 50, 10000, &summary, &err));
  CHECK(landfall_run_summary_idle(summary) == 1);
  CHECK(landfall_run_summary_tasks(summary, LANDFALL_TASK_SUCCEEDED) == 2);
  CHECK(landfall_run_summary_tasks(summary, LANDFALL_TASK_DEAD) == 1);
  CHECK(landfall_run_summary_tasks(summary, LANDFALL_TASK_BLOCKED) == 1);
  CHECK(landfall_run_summary_tasks(summary, LANDFALL_TASK_READY) == 0);
  CHECK(landfall_run_summary_tasks(summary, 99) == 0);
  CHECK(landfall_run_summary_attempts(summary, LANDFALL_SUCCEEDED) == 2);
  CHECK(landfall_run_summary_attempts(summary, LANDFALL_FATAL) == 1);
  CHECK(landfall_run_summary_attempts(summary, LANDFALL_RETRYABLE) == 0);
  CHECK(landfall_run_summary_attempts(summary, LANDFALL_LEASE_EXPIRED) == 0);
  landfall_run_summary_destroy(summary);
  landfall_run_summary_destroy(NULL);
  CHECK(landfall_run_summary_idle(NULL) == 0);
  CHECK(landfall_run_summary_tasks(NULL, LANDFALL_TASK_DEAD) == 0);
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_runner_wait_idle(r, -1, 0, &summary, &err));
  CHECK_CONTAINS(err, "quiet_ms");
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_runner_wait_idle(r, 0, 0, NULL, &err));

  /* An attempt still running past the grace period is abandoned. */
  CHECK_OK(
      landfall_ingest(s, "e3", "src", "2018-11-05", NULL, NULL, NULL, &err));
  landfall_runner_notify(r);
  for (waited = 0; claimed < 4 && waited < 10000; ++waited) {
    landfall_runner_stats(r, &claimed, NULL, NULL, NULL, NULL);
    SleepMs(1);
  }
  /* A zero timeout checks once: 11-05 runs. */
  CHECK_OK(landfall_runner_wait_idle(r, 0, 0, &summary, &err));
  CHECK(landfall_run_summary_idle(summary) == 0);
  CHECK(landfall_run_summary_tasks(summary, LANDFALL_TASK_RUNNING) == 1);
  landfall_run_summary_destroy(summary);
  landfall_runner_stop(r, 10);
  landfall_runner_stop(r, 10);
  landfall_runner_stats(r, &claimed, &succeeded, &failed, &abandoned, &running);
  CHECK(claimed == 4 && abandoned == 1 && running == 0);
  CHECK_OK(landfall_runner_wait_idle(r, 0, -1, &summary, &err));
  CHECK(landfall_run_summary_attempts(summary, LANDFALL_LEASE_EXPIRED) == 1);
  landfall_run_summary_destroy(summary);
  landfall_runner_stats(NULL, &claimed, NULL, NULL, NULL, NULL);

  CHECK_OK(landfall_read_history(s, 1, 1000, &text, &err));
  CHECK_CONTAINS(text, "\"worker\":\"c-host\"");
  CHECK_CONTAINS(text, "built report/2018-11-03 attempt 1");
  landfall_free(text);
  CHECK_OK(landfall_status(s, "load", "DEAD", &text, &err));
  CHECK_CONTAINS(text, "executor returned 99, which is not an outcome");
  landfall_free(text);

  /* The runner keeps the scheduler alive after its handle is closed. */
  landfall_scheduler_close(s);
  CHECK(executor.destroyed == 0 && executor.calls == 4);
  landfall_runner_destroy(r);
  CHECK(executor.destroyed == 1);
  landfall_runner_destroy(NULL);
}

/* A webhook URL is checked when the runner is made, and never shown whole:
 * its path is a secret. */
static void TestRunnerAlertOptions(void) {
  landfall_scheduler_t* s = OpenMemory();
  landfall_runner_options_t* options = landfall_runner_options_create();
  landfall_runner_t* r = NULL;
  struct Executor executor = {0, 0};

  landfall_runner_options_add_alert_webhook(options,
                                            "ftp://hooks.example/T0/SECRET");
  landfall_runner_options_add_alert_webhook(NULL, "http://x/");
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_runner_create(s, options, Execute, &executor,
                                    DestroyExecutor, &r, &err));
  CHECK_CONTAINS(err, "URL ftp://hooks.example/... is not http://");
  CHECK(strstr(err, "SECRET") == NULL);
  CHECK(r == NULL && executor.destroyed == 0);
  landfall_runner_options_destroy(options);

  options = landfall_runner_options_create();
  landfall_runner_options_add_alert_webhook(options,
                                            "http://127.0.0.1:1/T0/SECRET");
  landfall_runner_options_set_alert_queue_wait_ms(options, 60000);
  landfall_runner_options_set_alert_check_interval_ms(options, 0);
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_runner_create(s, options, Execute, &executor,
                                    DestroyExecutor, &r, &err));
  CHECK_CONTAINS(err, "alerts.check_interval must be positive");
  landfall_runner_options_set_alert_check_interval_ms(options, 50);
  CHECK_OK(landfall_runner_create(s, options, Execute, &executor,
                                  DestroyExecutor, &r, &err));
  landfall_runner_options_destroy(options);
  landfall_runner_destroy(r);
  CHECK(executor.destroyed == 1);

  /* From the environment or a file: a missing one is named, the value
   * never shown. */
  unsetenv("LANDFALL_CAPI_NO_HOOK");
  options = landfall_runner_options_create();
  landfall_runner_options_add_alert_webhook_env(options,
                                                "LANDFALL_CAPI_NO_HOOK");
  CHECK_CODE(LANDFALL_INVALID_ARGUMENT,
             landfall_runner_create(s, options, Execute, &executor,
                                    DestroyExecutor, &r, &err));
  CHECK_CONTAINS(err, "environment variable LANDFALL_CAPI_NO_HOOK is not set");
  landfall_runner_options_destroy(options);
  options = landfall_runner_options_create();
  landfall_runner_options_add_alert_webhook_file(options,
                                                 "/nonexistent/landfall-hook");
  CHECK_CODE(LANDFALL_NOT_FOUND,
             landfall_runner_create(s, options, Execute, &executor,
                                    DestroyExecutor, &r, &err));
  CHECK_CONTAINS(err, "/nonexistent/landfall-hook");
  landfall_runner_options_destroy(options);
  setenv("LANDFALL_CAPI_HOOK", " http://127.0.0.1:1/T0/SECRET\n", 1);
  options = landfall_runner_options_create();
  landfall_runner_options_add_alert_webhook_env(options, "LANDFALL_CAPI_HOOK");
  landfall_runner_options_add_alert_webhook_env(NULL, "LANDFALL_CAPI_HOOK");
  landfall_runner_options_add_alert_webhook_file(NULL, "x");
  CHECK_OK(landfall_runner_create(s, options, Execute, &executor,
                                  DestroyExecutor, &r, &err));
  unsetenv("LANDFALL_CAPI_HOOK");
  landfall_runner_options_destroy(options);
  landfall_runner_destroy(r);
  CHECK(executor.destroyed == 2);
  landfall_scheduler_close(s);
}

int main(void) {
  TestCodesVersionFree();
  TestOpenErrors();
  TestPipelineWarnings();
  TestSqliteReopens();
  TestSqliteReadOnly();
  TestIngest();
  TestClaimHeartbeatComplete();
  TestQueries();
  TestOperations();
  TestDeploy();
  TestSubscriptions();
  TestCorruptHistory();
  TestRunner();
  TestRunnerAlertOptions();
  TestBigQuerySpecSink();
  landfall_free(err);
  printf("capi_test: all passed\n");
  return 0;
}
