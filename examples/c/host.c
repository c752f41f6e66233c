/* A minimal C host of landfall: a scheduler in memory on the recruit
 * pipeline, one arrival, its ready tasks claimed and completed, and the
 * history printed as JSON lines.
 *
 *   landfall_c_host examples/recruit/pipeline.textproto
 */
#include <stdio.h>

#include "landfall/landfall.h"

/* Prints what failed and returns 1 when `code` is not LANDFALL_OK. It takes
 * the address of the message, not the message: in Failed("x", call(&err),
 * err) the order in which the arguments are evaluated is unspecified, so
 * `err` may be read before the call sets it. */
static int Failed(const char* what, int code, char* const* err) {
  if (code == LANDFALL_OK) return 0;
  fprintf(stderr, "%s: %s: %s\n", what, landfall_status_name(code),
          *err != NULL ? *err : "(no message)");
  return 1;
}

int main(int argc, char** argv) {
  landfall_scheduler_t* s = NULL;
  landfall_claims_t* claims = NULL;
  char* err = NULL;
  char* history = NULL;
  size_t i;
  int rc = 1;

  if (argc != 2) {
    fprintf(stderr, "usage: %s SPEC\n", argv[0]);
    return 2;
  }
  printf("landfall %s\n", landfall_version());
  if (Failed("open", landfall_scheduler_open(argv[1], "memory:", &s, &err),
             &err)) {
    goto done;
  }
  if (Failed("ingest",
             landfall_ingest(s, "jalan.reservations/2018-11-03",
                             "jalan.reservations", "2018-11-03",
                             "2018-11-04T01:00:00Z", "s3://lake/jalan/", NULL,
                             &err),
             &err) ||
      Failed("claim",
             landfall_claim(s, "c-host", 10, NULL, 0, NULL, 0, &claims, &err),
             &err)) {
    goto done;
  }
  for (i = 0; i < landfall_claims_count(claims); ++i) {
    const landfall_task_t* task = landfall_claims_at(claims, i);
    /* A real host would run the load here. */
    printf("run %s/%s attempt %lld\n", landfall_task_table(task),
           landfall_task_partition(task),
           (long long)landfall_task_attempt(task));
    if (Failed("complete",
               landfall_complete(s, landfall_task_table(task),
                                 landfall_task_partition(task),
                                 landfall_task_attempt(task),
                                 LANDFALL_SUCCEEDED, "loaded by host.c", &err),
               &err)) {
      goto done;
    }
  }
  if (Failed("history", landfall_read_history(s, 1, 1000, &history, &err),
             &err)) {
    goto done;
  }
  fputs(history, stdout);
  rc = 0;

done:
  landfall_free(history);
  landfall_claims_destroy(claims);
  landfall_scheduler_close(s);
  landfall_free(err);
  return rc;
}
