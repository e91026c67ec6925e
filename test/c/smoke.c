/* A C program using libruvector through its generated header only: build an
 * index, search it, save and load it, remove from it, read an error, and read
 * lake counters. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "ruvector.h"

#define CHECK(call)                                                      \
  do {                                                                   \
    int32_t s = (call);                                                  \
    if (s != RUV_STATUS_OK) {                                            \
      char msg[256];                                                     \
      ruv_last_error((uint8_t *)msg, sizeof msg, NULL);                  \
      fprintf(stderr, "%s failed (%s): %s\n", #call, ruv_status_str(s), msg); \
      return 1;                                                          \
    }                                                                    \
  } while (0)

enum { N = 1000, DIM = 32, K = 5 };

int main(int argc, char **argv) {
  static float data[N * DIM];
  for (int i = 0; i < N * DIM; i++) data[i] = sinf((float)i * 0.37f) + cosf((float)(i % 97));
  RuvIndexParams params = {
    .struct_size = sizeof params, .kind = RUV_INDEX_KIND_PLUS, .dim = DIM, .metric = RUV_METRIC_L2,
    .rerank_factor = 20, .pad_to_word = 1, .seed = 42,
  };
  RuvIndex *index = NULL;
  CHECK(ruv_index_build(&params, data, N * DIM, NULL, 0, &index));

  RuvIndexInfo info = { .struct_size = sizeof info };
  CHECK(ruv_index_info(index, &info));
  if (info.len != N || info.params.dim != DIM || info.params.kind != RUV_INDEX_KIND_PLUS) { fprintf(stderr, "wrong info\n"); return 1; }

  RuvSearchOptions search = { .struct_size = sizeof search, .k = K };
  uint64_t ids[K]; float scores[K]; uint64_t count = 0;
  CHECK(ruv_index_search(index, data + 7 * DIM, DIM, &search, ids, scores, K, &count));
  if (count != K || ids[0] != 7) { fprintf(stderr, "expected vector 7 first, got %llu\n", (unsigned long long)ids[0]); return 1; }

  const char *path = argc > 1 ? argv[1] : "smoke.rbpx";
  CHECK(ruv_index_save(index, (const uint8_t *)path, strlen(path)));
  RuvIndex *loaded = NULL;
  CHECK(ruv_index_load((const uint8_t *)path, strlen(path), RUV_INDEX_KIND_ANY, &loaded));
  int32_t same = 0;
  CHECK(ruv_index_equals(index, loaded, &same));
  if (!same) { fprintf(stderr, "loaded index differs\n"); return 1; }

  const uint64_t gone[2] = { 7, 5000 };
  uint64_t removed = 9;
  if (ruv_index_remove(loaded, gone, 2, 0, &removed) != RUV_STATUS_NOT_FOUND || removed != 9) { fprintf(stderr, "unknown id not refused\n"); return 1; }
  CHECK(ruv_index_remove(loaded, gone, 2, RUV_INDEX_REMOVE_IGNORE_MISSING, &removed));
  CHECK(ruv_index_search(loaded, data + 7 * DIM, DIM, &search, ids, scores, K, &count));
  if (removed != 1 || count != K || ids[0] == 7) { fprintf(stderr, "id 7 still found after its removal\n"); return 1; }
  CHECK(ruv_index_upsert(loaded, data + 7 * DIM, DIM, gone, 1));
  CHECK(ruv_index_compact(loaded));
  CHECK(ruv_index_info(loaded, &info));
  CHECK(ruv_index_search(loaded, data + 7 * DIM, DIM, &search, ids, scores, K, &count));
  if (info.len != N || ids[0] != 7) { fprintf(stderr, "upsert did not bring id 7 back\n"); return 1; }

  const uint64_t tags[1] = { 0x5 }, only[2] = { 3, 4 };
  RuvAddOptions tagged = { .struct_size = sizeof tagged, .tags = tags, .tags_len = 1 };
  const uint64_t fresh[1] = { 9000 };
  CHECK(ruv_index_add_with(loaded, data + 3 * DIM, DIM, fresh, 1, &tagged));
  RuvSearchFilter filters[2] = {
    { .struct_size = sizeof filters[0], .ids_mode = RUV_FILTER_IDS_ANY, .tags_any = 0x4 },
    { .struct_size = sizeof filters[0], .ids_mode = RUV_FILTER_IDS_ALLOW, .ids = only, .ids_len = 2 },
  };
  RuvSearchOptions filtered = { .struct_size = sizeof filtered, .k = K, .filters = filters, .filters_len = 1 };
  uint64_t tag_of = 0, batch_ids[2 * K], hits = 0, kk = 0;
  float batch_scores[2 * K];
  CHECK(ruv_index_search(loaded, data, DIM, &filtered, batch_ids, batch_scores, K, &hits));
  CHECK(ruv_index_get_tags(loaded, 9000, &tag_of));
  if (hits != 1 || batch_ids[0] != 9000 || tag_of != 0x5) { fprintf(stderr, "tag filter found %llu hits\n", (unsigned long long)hits); return 1; }
  filtered.filters_len = 2;
  CHECK(ruv_index_search_batch(loaded, data, 2 * DIM, &filtered, batch_ids, batch_scores, 2 * K, &kk));
  if (batch_ids[0] != 9000 || batch_ids[1] != RUV_NO_HIT_ID || batch_ids[K + 2] != RUV_NO_HIT_ID) { fprintf(stderr, "per-query filters not applied\n"); return 1; }

  int32_t s = ruv_index_search(index, data, DIM - 1, &search, ids, scores, K, &count);
  char msg[16];
  RuvErrorInfo error = { .struct_size = sizeof error };
  ruv_last_error((uint8_t *)msg, sizeof msg, &error);
  if (s != RUV_STATUS_DIMENSION_MISMATCH || error.status != s || strcmp(msg, "dimension misma") != 0 ||
      error.message_len != strlen("dimension mismatch: expected 32, got 31") || error.expected_dim != 32 || error.actual_dim != 31 ||
      strcmp(ruv_status_str(s), "dimension mismatch") != 0) {
    fprintf(stderr, "unexpected error %d: %s\n", s, msg); return 1;
  }

  RuvLakeConfig config = { .struct_size = sizeof config, .rerank_factor = 20, .consistency = RUV_CONSISTENCY_FRESH, .rotation_seed = 42 };
  RuvLake *lake = NULL;
  CHECK(ruv_lake_new(&config, &lake));
  RuvCacheStats stats = { .struct_size = sizeof stats, .counters = { .hits = 99 } };
  CHECK(ruv_lake_stats(lake, RUV_STATS_SCOPE_GLOBAL, 0, &stats));
  if (stats.struct_size != sizeof stats || stats.counters.hits != 0 || stats.entries != 0) { fprintf(stderr, "wrong lake stats\n"); return 1; }
  int32_t needs = -1;
  if (ruv_lake_needs_check_with(lake, 0, RUV_LAKE_CHECK_UNCOUNTED << 1, &needs) != RUV_STATUS_INVALID_ARGUMENT || needs != -1) {
    fprintf(stderr, "unknown check flags accepted\n"); return 1;
  }
  uint64_t sampled = 7;
  if (ruv_lake_sample_rows(lake, 0, NULL, 0, &sampled) != RUV_STATUS_INVALID_ARGUMENT || sampled != 7) {
    fprintf(stderr, "sample rows of an unknown key accepted\n"); return 1;
  }

  CHECK(ruv_lake_free(lake));
  CHECK(ruv_index_free(loaded));
  CHECK(ruv_index_free(index));
  printf("ok: top hit %llu, score %.3f\n", (unsigned long long)ids[0], scores[0]);
  return 0;
}
