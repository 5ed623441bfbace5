/* RESP2/RESP3 parsing core shared by the Reader type and the protocol.
 *
 * Scan first, then build: resp_scan() walks the buffered bytes with a
 * resumable state (an offset plus a stack of "elements left" per nesting
 * level) and validates every header, but creates no Python object. Only once
 * a whole reply is buffered does resp_build() turn it into Python objects.
 * So the extent of each reply is known before any Python code runs: a decode
 * error or a raising error class becomes that reply's exception and the
 * stream stays in sync. Memory grows with the bytes received only; declared
 * lengths and counts are bounded and never used to allocate.
 */
#ifndef AIOR_RESP_H
#define AIOR_RESP_H

#include "module.h"

typedef struct {
    int64_t left;  /* elements still to come at this level */
    int is_attr;   /* an attribute map: when done it does not count as an element */
} resp_frame;

typedef struct {
    char *data;        /* input buffer; [start, end) is unconsumed */
    size_t start, end, cap;
    size_t pos;        /* where the scan resumes (offset into data) */
    size_t line_from;  /* where the CRLF search for the element at pos resumes */
    resp_frame *stack; /* grows on demand up to AIOR_MAX_DEPTH frames */
    int depth, stack_cap;
    int busy;          /* building objects from data: feeding now would move it */
    int exports;       /* buffer views handed out (BufferedProtocol) still alive */
    void **retired;    /* old blocks such views may still point into: freed when */
    int n_retired, cap_retired; /* the last view is released */
    int failed;        /* sticky protocol error, message in errmsg */
    char errmsg[96];
} resp_parser;

typedef struct {
    PyObject *reply_error;  /* called with the message text; its result is the reply */
    const char *encoding;   /* NULL: strings stay bytes */
    const char *errors;     /* codec error handler, NULL means strict */
    int utf8;               /* encoding is UTF-8: use the direct decoder */
} resp_build_ctx;

void resp_init(resp_parser *p);
void resp_free(resp_parser *p);
/* Append bytes; -1 with MemoryError set on failure. */
int resp_feed(resp_parser *p, const char *src, size_t n);
/* Make room for n more bytes at the end and return where to write them
 * (NULL with MemoryError set); resp_commit() then counts what was written. */
char *resp_reserve(resp_parser *p, size_t n);
void resp_commit(resp_parser *p, size_t n);
/* 1: a whole reply is buffered at data+start, ending at *end;
 * 0: more bytes are needed; -1: protocol error (p->errmsg, sticky);
 * -2: a Python exception is set (out of memory). */
int resp_scan(resp_parser *p, size_t *end);
/* The type byte of the buffered reply (after any attributes). */
char resp_reply_type(const resp_parser *p, size_t end);
/* Build the complete reply that resp_scan() found: new reference, or NULL
 * with an exception set (the reply is consumed either way by resp_consume). */
PyObject *resp_build(resp_parser *p, const resp_build_ctx *ctx, size_t end);
void resp_consume(resp_parser *p, size_t end);
/* A buffer view of the parser's memory was released (see exports). */
void resp_release_export(resp_parser *p);
size_t resp_buffered(const resp_parser *p);
/* Fill ctx from an encoding/errors pair of str objects (either may be None
 * or NULL). The ctx borrows their UTF-8 buffers: keep the objects alive. */
int resp_ctx_set_encoding(resp_build_ctx *ctx, PyObject *encoding, PyObject *errors);

#endif
