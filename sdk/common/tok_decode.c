/* tok_decode.c: ids -> bytes, and the streaming UTF-8 decoder that only
 * lets whole characters through. */
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"

const char *tok_piece(const tokenizer *t, int32_t id, bool special, size_t *len) {
    if (id < 0 || (uint32_t)id >= t->n) return NULL;
    int ty = t->type[id];
    if (!special && (ty == TOK_TYPE_CONTROL || ty == TOK_TYPE_UNKNOWN)) {
        *len = 0;
        return "";
    }
    *len = t->piece_len[id];
    return t->pool + t->piece_off[id];
}

char *tok_decode(const tokenizer *t, const int32_t *ids, size_t n, bool special, size_t *len) {
    tok_bytes out = {0};
    bool at_start = true;
    for (size_t i = 0; i < n; i++) {
        size_t l;
        const char *p = tok_piece(t, ids[i], special, &l);
        if (!p || l == 0) continue;
        /* The SPM dummy prefix: the space the encoder put in front. */
        if (at_start && t->add_space_prefix && p[0] == ' ' && t->type[ids[i]] == TOK_TYPE_NORMAL) {
            p++;
            l--;
        }
        at_start = false;
        if (!tok_bytes_put(&out, p, l)) { free(out.v); return NULL; }
    }
    if (!tok_bytes_put(&out, "", 1)) { free(out.v); return NULL; }
    *len = out.n - 1;
    return (char *)out.v;
}

/* ---- Streaming UTF-8 ---------------------------------------------------- */

void tok_stream_init(tok_utf8_stream *s) { memset(s, 0, sizeof *s); }

static size_t seq_len(uint8_t lead) {
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    if (lead >= 0xE0 && lead <= 0xEF) return 3;
    if (lead >= 0xF0 && lead <= 0xF4) return 4;
    return 0;   /* ASCII is handled apart; everything else cannot start one */
}

/* Whether byte x may follow the bytes already pending (RFC 3629 ranges:
 * no overlong forms, no surrogates, nothing past U+10FFFF). */
static bool fits(const tok_utf8_stream *s, uint8_t x) {
    uint8_t lo = 0x80, hi = 0xBF;
    if (s->n == 1) {
        switch (s->pend[0]) {
        case 0xE0: lo = 0xA0; break;
        case 0xED: hi = 0x9F; break;
        case 0xF0: lo = 0x90; break;
        case 0xF4: hi = 0x8F; break;
        default: break;
        }
    }
    return x >= lo && x <= hi;
}

static size_t replacement(char *out) {
    memcpy(out, "\xEF\xBF\xBD", 3);
    return 3;
}

size_t tok_stream_push(tok_utf8_stream *s, const void *in, size_t n, char *out) {
    const uint8_t *p = in;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t x = p[i];
        if (s->n > 0) {
            if (fits(s, x)) {
                s->pend[s->n++] = x;
                if (s->n == seq_len(s->pend[0])) {
                    memcpy(out + o, s->pend, s->n);
                    o += s->n;
                    s->n = 0;
                }
                continue;
            }
            /* The pending bytes are a maximal invalid subpart: one U+FFFD,
             * then x starts afresh. */
            o += replacement(out + o);
            s->n = 0;
        }
        if (x < 0x80) {
            out[o++] = (char)x;
        } else if (seq_len(x)) {
            s->pend[0] = x;
            s->n = 1;
        } else {
            o += replacement(out + o);
        }
    }
    return o;
}

size_t tok_stream_flush(tok_utf8_stream *s, char *out) {
    if (s->n == 0) return 0;
    s->n = 0;
    return replacement(out);
}
