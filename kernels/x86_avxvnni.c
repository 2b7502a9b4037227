/* x86_avxvnni.c: the AVX-VNNI table (kn_ops_avxvnni), for CPUs with AVX2
 * and AVX-VNNI but no AVX-512 (and for comparing against AVX2 anywhere).
 *
 * It is x86_avx2.c compiled a second time with -mavxvnni: x86_simd.h's
 * dpbusd256 becomes one VPDPBUSD instead of maddubs + madd + add, and the
 * table and row dot take their AVX-VNNI names. One source keeps the two
 * tables from drifting apart; they must give the same bits. */
#include "x86_avx2.c"
