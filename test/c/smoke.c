/* A C program using libruvector through its generated header only:
 * build an index, search it, save and load it, and read an error message. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "ruvector.h"

#define CHECK(call)                                                      \
  do {                                                                   \
    int32_t s = (call);                                                  \
    if (s != RUV_STATUS_OK) {                                            \
      char msg[256]; uint64_t len = 0;                                   \
      ruv_last_error((uint8_t *)msg, sizeof msg - 1, &len);              \
      msg[len < sizeof msg - 1 ? len : sizeof msg - 1] = 0;              \
      fprintf(stderr, "%s failed (%d): %s\n", #call, s, msg);            \
      return 1;                                                          \
    }                                                                    \
  } while (0)

enum { N = 1000, DIM = 32, K = 5 };

int main(int argc, char **argv) {
  static float data[N * DIM];
  for (int i = 0; i < N * DIM; i++) data[i] = sinf((float)i * 0.37f) + cosf((float)(i % 97));
  RuvIndex *index = NULL;
  CHECK(ruv_index_build(2, DIM, 42, 20, 0, 1, data, N * DIM, NULL, 0, &index));

  uint64_t ids[K]; float scores[K]; uint64_t count = 0;
  CHECK(ruv_index_search(index, data + 7 * DIM, DIM, K, 0, ids, scores, K, &count));
  if (count != K || ids[0] != 7) { fprintf(stderr, "expected vector 7 first, got %llu\n", (unsigned long long)ids[0]); return 1; }

  const char *path = argc > 1 ? argv[1] : "smoke.rbpx";
  CHECK(ruv_index_save(index, (const uint8_t *)path, strlen(path)));
  RuvIndex *loaded = NULL;
  CHECK(ruv_index_load((const uint8_t *)path, strlen(path), 2, &loaded));
  int32_t same = 0;
  CHECK(ruv_index_equals(index, loaded, &same));
  if (!same) { fprintf(stderr, "loaded index differs\n"); return 1; }

  int32_t s = ruv_index_search(index, data, DIM - 1, K, 0, ids, scores, K, &count);
  char msg[128]; uint64_t len = 0;
  ruv_last_error((uint8_t *)msg, sizeof msg - 1, &len);
  msg[len] = 0;
  if (s != RUV_STATUS_DIMENSION_MISMATCH || strcmp(msg, "dimension mismatch: expected 32, got 31") != 0) {
    fprintf(stderr, "unexpected error %d: %s\n", s, msg); return 1;
  }
  CHECK(ruv_index_free(loaded));
  CHECK(ruv_index_free(index));
  printf("ok: top hit %llu, score %.3f\n", (unsigned long long)ids[0], scores[0]);
  return 0;
}
