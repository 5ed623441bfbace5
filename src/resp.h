/* RESP2/RESP3 parsing core shared by the Reader type and the protocol.
 *
 * One pass: resp_parse() walks the buffered bytes with a resumable state (an
 * offset plus a stack of partly filled aggregates), validates every header
 * and builds each element's object as soon as the element is complete, so a
 * large array is built while the rest of it is still on the wire. A failure
 * to build (a decode error, a raising error class) is kept and the rest of
 * the reply only scanned: at its end the reply is that exception and the
 * stream stays in sync. The reply's bytes stay buffered until the caller
 * consumes them, so a reply scanned without building (pub/sub, where what it
 * is decides how to build it) can be built afterwards by resp_build().
 * Memory grows with the bytes received only; declared lengths and counts
 * are bounded and never used to allocate.
 */
#ifndef AIOR_RESP_H
#define AIOR_RESP_H

#include "module.h"

typedef struct {
    int64_t left;      /* elements still to come at this level */
    PyObject *obj;     /* the list or dict being filled; NULL when not building */
    PyObject *key;     /* a map's key waiting for its value */
    Py_ssize_t filled; /* a list's items stored so far */
    char kind;         /* '*' a list, '%' a map, '|' an attribute (discarded) */
} resp_frame;

enum { RESP_IDLE = 0, RESP_SCAN, RESP_BUILD }; /* what resp_parse does to this reply */

typedef struct {
    char *data;        /* input buffer; [start, end) is unconsumed */
    size_t start, end, cap;
    size_t pos;        /* where the scan resumes (offset into data) */
    size_t line_from;  /* where the CRLF search for the element at pos resumes */
    size_t funded_to;  /* buffered bytes before this have paid for preallocated slots */
    resp_frame *stack; /* grows on demand up to AIOR_MAX_DEPTH frames */
    int depth, stack_cap;
    int n_attr;        /* attribute frames on the stack: their contents are dropped */
    int mode;          /* RESP_*, fixed when a reply's first byte is parsed */
    char reply_type;   /* type byte of the last reply begun (after attributes) */
    PyObject *error;   /* the exception building the current reply raised */
    int busy;          /* building objects from data: feeding now would move it */
    int lent;          /* get_buffer() handed out the free space: its bytes come with buffer_updated() */
    int exports;       /* buffer views handed out (BufferedProtocol) still alive */
    void **retired;    /* old blocks such views may still point into: freed when */
    int n_retired, cap_retired; /* the last view is released */
    int halt;          /* set by the owner when Python code run while building
                        * closed it: no more objects, the parse fails */
    int failed;        /* sticky protocol error, message in errmsg */
    char errmsg[96];
} resp_parser;

typedef struct {
    PyObject *reply_error;  /* called with the message text; its result is the reply */
    const char *encoding;   /* NULL: strings stay bytes */
    const char *errors;     /* codec error handler, NULL means strict */
    int utf8;               /* encoding is UTF-8: use the direct decoder */
    int flat_map;           /* build a top-level array [k1, v1, ...] as {k1: v1, ...} */
    PyObject *ok;           /* b"OK", shared by every +OK reply read as bytes (or NULL) */
} resp_build_ctx;

/* A complete, well-formed bulk string header "$<1 to 10 digits>\r\n" at s
 * (s[0] == '$', s < e) with a length up to the limit: where its payload
 * starts (its length in *len), or NULL for anything else (a null, a partial
 * or bad header: the general path deals with those). Inline: every bulk
 * string of every reply goes through it. */
static inline const char *
resp_bulk_header(const char *s, const char *e, size_t *len)
{
    const char *digits = s + 1, *q = digits, *stop = e - digits > 10 ? digits + 10 : e;
    size_t n = 0;
    while (q < stop && (unsigned char)(*q - '0') <= 9) {
        n = n * 10 + (size_t)(*q - '0');
        q++;
    }
    if (q == digits || e - q < 2 || q[0] != '\r' || q[1] != '\n' ||
        n > (size_t)AIOR_MAX_BULK_LEN) {
        return NULL;
    }
    *len = n;
    return q + 2;
}

void resp_init(resp_parser *p);
void resp_free(resp_parser *p);
/* Append bytes; -1 with MemoryError set on failure. */
int resp_feed(resp_parser *p, const char *src, size_t n);
/* Make room for n more bytes at the end and return where to write them
 * (NULL with MemoryError set); resp_commit() then counts what was written. */
char *resp_reserve(resp_parser *p, size_t n);
void resp_commit(resp_parser *p, size_t n);
/* Parse on from where the last call stopped. build (looked at only when a
 * reply begins) says whether to make its objects, with ctx.
 * 1: the reply is complete at data+start, ending at *end; *out is its object
 *    (new reference), or NULL with its exception set;
 * 2: the same, scanned without building (*out is NULL, no exception);
 * 0: more bytes are needed; -1: protocol error (p->errmsg, sticky);
 * -2: a Python exception is set (out of memory for the parser itself).
 * The caller consumes a complete reply with resp_consume(). */
int resp_parse(resp_parser *p, const resp_build_ctx *ctx, int build, PyObject **out,
               size_t *end);
/* The reply at the parse position, if it is a whole bulk string in the
 * buffer and strings stay bytes (the reply to GET): built at once. 1 with
 * *out set (NULL: out of memory) and *end as resp_parse() sets it; 0 for
 * anything else, left to resp_parse(). Inline: Reader.gets() tries it
 * before the call, resp_parse() at the start of each reply. */
static inline int
resp_take_whole_bulk(resp_parser *p, const resp_build_ctx *ctx, PyObject **out, size_t *end)
{
    if (p->mode != RESP_IDLE || p->failed || p->pos >= p->end || p->data[p->pos] != '$' ||
        ctx->encoding != NULL) {
        return 0;
    }
    const char *e = p->data + p->end;
    size_t len;
    const char *payload = resp_bulk_header(p->data + p->pos, e, &len);
    if (payload == NULL || (size_t)(e - payload) < len + 2 || payload[len] != '\r' ||
        payload[len + 1] != '\n') {
        return 0;
    }
    /* no Python code runs here: no need for busy */
    *out = PyBytes_FromStringAndSize(payload, (Py_ssize_t)len);
    p->pos = (size_t)(payload - p->data) + len + 2;
    p->line_from = 0;
    p->reply_type = '$';
    *end = p->pos;
    return 1;
}
/* The type byte of the last complete reply (after any attributes). */
char resp_reply_type(const resp_parser *p);
/* Build the complete reply resp_parse() scanned (returned 2): new reference,
 * or NULL with an exception set. */
PyObject *resp_build(resp_parser *p, const resp_build_ctx *ctx, size_t end);
/* The reply begun must be built with another ctx: drop what was built of it,
 * scan the rest (resp_parse then returns 2) and build it with resp_build(). */
void resp_stop_building(resp_parser *p);
/* Everything buffered is consumed: start over at the front of the buffer. */
void resp_release_idle(resp_parser *p);
/* The reply ending at end is dealt with: drop its bytes (once per reply, so
 * inline; the rare part is out of line). */
static inline void
resp_consume(resp_parser *p, size_t end)
{
    p->mode = RESP_IDLE; /* what follows is a new reply */
    p->start = end;
    if (p->pos < end) {
        p->pos = end;
    }
    if (p->start == p->end) {
        resp_release_idle(p);
    }
}
/* A buffer view of the parser's memory was released (see exports). */
void resp_release_export(resp_parser *p);
size_t resp_buffered(const resp_parser *p);
/* Bytes allocated for the buffer (its capacity). */
size_t resp_capacity(const resp_parser *p);
/* Fill ctx from an encoding/errors pair of str objects (either may be None
 * or NULL). The ctx borrows their UTF-8 buffers: keep the objects alive. */
int resp_ctx_set_encoding(resp_build_ctx *ctx, PyObject *encoding, PyObject *errors);

#endif
