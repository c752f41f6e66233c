/* The checks of the C API's tests, in plain C: each failed check prints
 * where and why and exits 1. */
#ifndef LANDFALL_TESTS_CAPI_CAPI_CHECK_H_
#define LANDFALL_TESTS_CAPI_CAPI_CHECK_H_

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landfall/landfall.h"

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

/* `call` returns `code`, leaving in `err` NULL for OK, else a message. */
#define CHECK_CODE(code, call)                                               \
  do {                                                                       \
    int got_ = (call);                                                       \
    if (got_ != (code)) {                                                    \
      fprintf(stderr, "%s:%d: %s\n  returned %s (%s), expected %s\n",        \
              __FILE__, __LINE__, #call, landfall_status_name(got_),         \
              err != NULL ? err : "no message", landfall_status_name(code)); \
      exit(1);                                                               \
    }                                                                        \
    CHECK(((code) == LANDFALL_OK) == (err == NULL));                         \
  } while (0)
#define CHECK_OK(call) CHECK_CODE(LANDFALL_OK, call)

#define CHECK_CONTAINS(text, part)                                         \
  do {                                                                     \
    const char* text_ = (text);                                            \
    if (text_ == NULL || strstr(text_, (part)) == NULL) {                  \
      fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, \
              __LINE__, text_ != NULL ? text_ : "(NULL)", part);           \
      exit(1);                                                             \
    }                                                                      \
  } while (0)

/* The message of the last call, freed by the next one that takes it. */
static char* err = NULL;

#endif /* LANDFALL_TESTS_CAPI_CAPI_CHECK_H_ */
