/* rt_big: a guest with lots of code (about 200 KB of wasm), for the compile
 * and start-up benchmark (bench-rt). Thousands of distinct functions, all
 * reachable through a table, folded into one checksum that it prints. */
#include <stdio.h>

#define BODY(n)                                                        \
    static unsigned f##n(unsigned x) {                                 \
        unsigned h = x ^ (n * 2654435761u);                            \
        for (unsigned i = 0; i < (n % 5) + 1; i++) {                   \
            h = (h << 5) + h + i;                                      \
            if (h & 1) h ^= 0x9e3779b9u * n;                           \
            else h += n;                                               \
        }                                                              \
        switch (h % 4) {                                               \
        case 0: return h * 3 + n;                                      \
        case 1: return h ^ (n << 3);                                   \
        case 2: return h - n;                                          \
        default: return h + (h >> 7);                                  \
        }                                                              \
    }
#define D10(p) BODY(p##0) BODY(p##1) BODY(p##2) BODY(p##3) BODY(p##4) \
               BODY(p##5) BODY(p##6) BODY(p##7) BODY(p##8) BODY(p##9)
#define D100(p) D10(p##0) D10(p##1) D10(p##2) D10(p##3) D10(p##4) \
                D10(p##5) D10(p##6) D10(p##7) D10(p##8) D10(p##9)
#define R10(p) f##p##0, f##p##1, f##p##2, f##p##3, f##p##4, f##p##5, f##p##6, f##p##7, f##p##8, f##p##9,
#define R100(p) R10(p##0) R10(p##1) R10(p##2) R10(p##3) R10(p##4) \
                R10(p##5) R10(p##6) R10(p##7) R10(p##8) R10(p##9)
D100(1)
D100(2)
D100(3)
D100(4)
D100(5)
D100(6)
D100(7)
D100(8)
D100(9)
D100(10)
static unsigned (*const table[])(unsigned) = {
    R100(1)
    R100(2)
    R100(3)
    R100(4)
    R100(5)
    R100(6)
    R100(7)
    R100(8)
    R100(9)
    R100(10)
};

int main(void) {
    unsigned h = 1;
    for (unsigned round = 0; round < 3; round++)
        for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++) h = table[i](h + i);
    printf("rt_big: %u functions, checksum %u\n", (unsigned)(sizeof table / sizeof table[0]), h);
    return 0;
}
