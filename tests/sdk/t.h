/* t.h: the tiny check harness of the SDK tests. */
#ifndef SDK_T_H
#define SDK_T_H
#include <stdio.h>
#include <string.h>

extern int t_failed, t_checks;
#define CHECK(c, ...) do { t_checks++; if (!(c)) { t_failed++; \
    printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)
#define CHECK_STR(got, want) do { const char *g_ = (got), *w_ = (want); \
    CHECK(g_ && strcmp(g_, w_) == 0, "got \"%s\", want \"%s\"", g_ ? g_ : "(null)", w_); } while (0)

void test_chat(void);
#endif
