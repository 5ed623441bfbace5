/* RESP parser: validates, resumes where it stopped, builds Python objects. */
#include "resp.h"

#include <assert.h>
#include <stdarg.h>
#include <string.h>

#define INITIAL_CAP 16384
/* An empty buffer larger than this is given back (a connection that read
 * one big reply must not keep its memory while idle); this much (a read's
 * worth) is kept for the next reply. */
#define IDLE_SHRINK_CAP (64 * 1024)

void
resp_init(resp_parser *p)
{
    memset(p, 0, sizeof(*p));
}

static void
free_retired(resp_parser *p)
{
    for (int i = 0; i < p->n_retired; i++) {
        PyMem_Free(p->retired[i]);
    }
    p->n_retired = 0;
}

static void drop_frames(resp_parser *p);

void
resp_free(resp_parser *p)
{
    drop_frames(p);
    Py_CLEAR(p->error);
    PyMem_Free(p->data);
    PyMem_Free(p->stack);
    free_retired(p);
    PyMem_Free(p->retired);
    resp_init(p);
}

/* Give up a data block. While a view into it may be alive it is kept, and
 * freed when the last view is released. 0, or -1 with MemoryError. */
static int
retire_block(resp_parser *p, void *block)
{
    if (p->exports == 0 || block == NULL) {
        PyMem_Free(block);
        return 0;
    }
    if (p->n_retired == p->cap_retired) {
        int cap = p->cap_retired ? p->cap_retired * 2 : 4;
        void **retired = PyMem_Realloc(p->retired, (size_t)cap * sizeof(void *));
        if (retired == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        p->retired = retired;
        p->cap_retired = cap;
    }
    p->retired[p->n_retired++] = block;
    return 0;
}

void
resp_release_export(resp_parser *p)
{
    if (p->exports > 0 && --p->exports == 0) {
        free_retired(p);
        /* the transport holds its view while the reply is processed: an
         * empty buffer could not be given back then, it can now. Not while
         * lent: a transport may release its view before buffer_updated()
         * (uvloop does), with the bytes it read still to be committed */
        if (!p->busy && !p->lent && p->start == p->end) {
            resp_release_idle(p);
        }
    }
}

size_t
resp_buffered(const resp_parser *p)
{
    return p->end - p->start;
}

size_t
resp_capacity(const resp_parser *p)
{
    return p->cap;
}

static int
set_error(resp_parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PyOS_vsnprintf(p->errmsg, sizeof(p->errmsg), fmt, ap);
    va_end(ap);
    p->failed = 1;
    return -1;
}

char *
resp_reserve(resp_parser *p, size_t n)
{
    if (p->cap - p->end >= n) {
        return p->data + p->end;
    }
    /* Move the unconsumed bytes to the front first; offsets shift with them. */
    if (p->start > 0) {
        size_t used = p->end - p->start;
        memmove(p->data, p->data + p->start, used);
        p->pos -= p->start;
        if (p->line_from) {
            p->line_from -= p->start;
        }
        p->funded_to = p->funded_to > p->start ? p->funded_to - p->start : 0;
        p->end = used;
        p->start = 0;
        if (p->cap - p->end >= n) {
            return p->data + p->end;
        }
    }
    size_t need = p->end + n;
    if (need < p->end) {
        PyErr_NoMemory();
        return NULL;
    }
    size_t cap = p->cap ? p->cap : INITIAL_CAP;
    while (cap < need) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *data;
    if (p->exports == 0) {
        data = PyMem_Realloc(p->data, cap);
        if (data == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
    }
    else { /* a view may point into the old block: copy, keep the old one */
        data = PyMem_Malloc(cap);
        if (data == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        if (p->end) {
            memcpy(data, p->data, p->end);
        }
        if (retire_block(p, p->data) < 0) {
            PyMem_Free(data);
            return NULL;
        }
    }
    p->data = data;
    p->cap = cap;
    return p->data + p->end;
}

void
resp_commit(resp_parser *p, size_t n)
{
    p->end += n;
}

int
resp_feed(resp_parser *p, const char *src, size_t n)
{
    if (n == 0) {
        return 0;
    }
    char *dst = resp_reserve(p, n);
    if (dst == NULL) {
        return -1;
    }
    memcpy(dst, src, n);
    resp_commit(p, n);
    return 0;
}

void
resp_release_idle(resp_parser *p)
{
    p->start = p->end = p->pos = 0;
    p->line_from = p->funded_to = 0;
    /* A large reply is gone: give its memory back. */
    if (p->cap > IDLE_SHRINK_CAP) {
        if (p->exports == 0) {
            PyMem_Free(p->data);
            p->data = NULL;
            p->cap = 0;
        }
        /* else a view may point into it: keep it, it is reused */
    }
}

/* ---------------------------------------------------------------- scanning */

static const char *
find_crlf(const char *s, const char *end)
{
    while (s < end) {
        const char *cr = memchr(s, '\r', (size_t)(end - s));
        if (cr == NULL || cr + 1 >= end) {
            return NULL;
        }
        if (cr[1] == '\n') {
            return cr;
        }
        s = cr + 1;
    }
    return NULL;
}

/* -?[0-9]+ fitting int64. */
static int
parse_int64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0;
    uint64_t limit = (uint64_t)INT64_MAX;
    if (n > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
        limit += 1;
    }
    if (i == n) {
        return -1;
    }
    for (; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9) {
            return -1;
        }
        if (v > (limit - d) / 10) {
            return -1;
        }
        v = v * 10 + d;
    }
    if (neg) {
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    }
    else {
        *out = (int64_t)v;
    }
    return 0;
}

static int
is_digits(const char *s, size_t n)
{
    size_t i = (n > 0 && s[0] == '-') ? 1 : 0;
    if (i == n) {
        return 0;
    }
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/* A length or count: digits, or exactly -1 (null). */
static int
parse_length(const char *s, size_t n, int64_t *out)
{
    if (n == 2 && s[0] == '-' && s[1] == '1') {
        *out = -1;
        return 0;
    }
    if (n == 0 || s[0] == '-') {
        return -1;
    }
    return parse_int64(s, n, out);
}

static int
parse_double(const char *s, size_t n, double *out)
{
    char buf[AIOR_MAX_HEADER_LINE + 1];
    if (n == 0 || n > AIOR_MAX_HEADER_LINE) {
        return -1;
    }
    if (!((n == 3 && (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0)) ||
          (n == 4 && memcmp(s, "-inf", 4) == 0))) {
        for (size_t i = 0; i < n; i++) {
            if (!strchr("0123456789+-.eE", s[i]) || s[i] == '\0') {
                return -1;
            }
        }
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *endp = NULL;
    double v = PyOS_string_to_double(buf, &endp, NULL);
    if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    if (endp != buf + n) {
        return -1;
    }
    *out = v;
    return 0;
}

static int
is_header_type(char t)
{
    return strchr(":$*%~>=!|,(#_", t) != NULL && t != '\0';
}

/* ---------------------------------------------------------------- objects */

static PyObject *
make_string(const resp_build_ctx *ctx, const char *s, size_t n)
{
    if (ctx->encoding == NULL) {
        return PyBytes_FromStringAndSize(s, (Py_ssize_t)n);
    }
    if (ctx->utf8) {
        return PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, ctx->errors);
    }
    return PyUnicode_Decode(s, (Py_ssize_t)n, ctx->encoding, ctx->errors);
}

static PyObject *
make_error(const resp_build_ctx *ctx, const char *s, size_t n)
{
    PyObject *msg = PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, "replace");
    if (msg == NULL) {
        return NULL;
    }
    PyObject *err = PyObject_CallOneArg(ctx->reply_error, msg);
    Py_DECREF(msg);
    return err;
}

/* ------------------------------------------------------ parsing + building */

/* Building this reply failed (a decode error, a raising error class, an
 * unhashable map key, no memory): keep the first exception for the caller
 * and only scan the rest of the reply, so the stream stays in sync. */
static void
defer_error(resp_parser *p)
{
    PyObject *exc = aior_fetch_exception();
    if (p->error == NULL) {
        p->error = exc;
    }
    else {
        Py_XDECREF(exc);
    }
    if (p->error == NULL) { /* failed without an exception: should not happen */
        p->error = PyObject_CallFunction(PyExc_SystemError, "s", "aioredis: reply build failed");
    }
    drop_frames(p);
}

static void
drop_frames(resp_parser *p)
{
    for (int i = 0; i < p->depth; i++) {
        Py_CLEAR(p->stack[i].obj);
        Py_CLEAR(p->stack[i].key);
    }
}

static int
push_frame(resp_parser *p, int64_t left, char kind, PyObject *obj)
{
    if (p->depth >= AIOR_MAX_DEPTH) {
        Py_XDECREF(obj);
        return set_error(p, "Protocol error: nesting deeper than %d", AIOR_MAX_DEPTH);
    }
    if (p->depth == p->stack_cap) {
        int cap = p->stack_cap ? p->stack_cap * 2 : 8;
        if (cap > AIOR_MAX_DEPTH) {
            cap = AIOR_MAX_DEPTH;
        }
        resp_frame *stack = PyMem_Realloc(p->stack, (size_t)cap * sizeof(resp_frame));
        if (stack == NULL) {
            Py_XDECREF(obj);
            PyErr_NoMemory();
            return -2;
        }
        p->stack = stack;
        p->stack_cap = cap;
    }
    resp_frame *f = &p->stack[p->depth++];
    f->left = left;
    f->obj = obj;
    f->key = NULL;
    f->filled = 0;
    f->kind = kind;
    if (kind == '|') {
        p->n_attr++;
    }
    return 0;
}

/* Store a finished element in the aggregate being built (steals item). */
static void
store_item(resp_parser *p, resp_frame *f, PyObject *item)
{
    int r;
    if (f->kind == '%') {
        if (f->key == NULL) {
            f->key = item;
            return;
        }
        r = PyDict_SetItem(f->obj, f->key, item);
        Py_CLEAR(f->key);
        Py_DECREF(item);
    }
    else if (f->filled < PyList_GET_SIZE(f->obj)) {
        PyList_SET_ITEM(f->obj, f->filled, item);
        f->filled++;
        return;
    }
    else {
        r = PyList_Append(f->obj, item);
        Py_DECREF(item);
        f->filled++;
    }
    if (r < 0) {
        defer_error(p);
    }
}

/* An aggregate of `count` elements starts after `after`: its container. It
 * gets no more slots than the bytes already buffered could fill (an element
 * takes at least 3 bytes), and each buffered byte pays for slots once, for
 * all the open aggregates together: nested ones share the bytes after the
 * last that were paid for (funded_to), else every level of
 * "*4294967295\r\n*4294967295\r\n..." would preallocate for the same
 * bytes. A list's other elements are appended as they arrive, so memory
 * follows the bytes received, never the counts the peer declared. */
static PyObject *
new_container(resp_parser *p, int as_map, int64_t count, size_t after)
{
    size_t from = after > p->funded_to ? after : p->funded_to;
    int64_t room = from < p->end ? (int64_t)((p->end - from) / 3) : 0;
    if (count > room) {
        count = room;
    }
    p->funded_to = from + (size_t)count * 3;
    if (as_map) { /* count counts keys and values; sized for the pairs buffered */
        return aior_dict_presized((Py_ssize_t)(count / 2));
    }
    return PyList_New((Py_ssize_t)count);
}

/* The object for a complete scalar element of type t; line/n is its header
 * line, payload (for bulk types) follows it. NULL with an exception set. */
static PyObject *
make_scalar(const resp_build_ctx *ctx, char t, const char *line, size_t n, const char *payload,
            int64_t len)
{
    int64_t v;
    double d;
    switch (t) {
    case '+':
        return make_string(ctx, line, n);
    case '-':
        return make_error(ctx, line, n);
    case ':':
        (void)parse_int64(line, n, &v);
        return PyLong_FromLongLong(v);
    case '(': {
        char small[AIOR_MAX_HEADER_LINE + 1];
        memcpy(small, line, n);
        small[n] = '\0';
        return PyLong_FromString(small, NULL, 10);
    }
    case ',':
        (void)parse_double(line, n, &d);
        return PyFloat_FromDouble(d);
    case '#':
        return PyBool_FromLong(line[0] == 't');
    case '$':
        return len < 0 ? Py_NewRef(Py_None) : make_string(ctx, payload, (size_t)len);
    case '=':
        return len < 0 ? Py_NewRef(Py_None) : make_string(ctx, payload + 4, (size_t)len - 4);
    case '!':
        return len < 0 ? Py_NewRef(Py_None) : make_error(ctx, payload, (size_t)len);
    default: /* '_', and the null aggregates (count -1) */
        return Py_NewRef(Py_None);
    }
}

/* The complete bulk string at *pos, made into an object, *pos moved past
 * it: 1 (the object, or NULL if making it failed), or 0 if there is none
 * there (another type, a null, a partial or bad header: left to the general
 * path). The fill loops below share it. */
static inline int
take_bulk(const resp_parser *p, const resp_build_ctx *ctx, size_t *pos, PyObject **item)
{
    const char *data = p->data;
    size_t len;
    const char *payload = resp_bulk_header(data + *pos, data + p->end, &len);
    if (payload == NULL) {
        return 0;
    }
    size_t after = (size_t)(payload - data);
    if (p->end - after < len + 2 || data[after + len] != '\r' || data[after + len + 1] != '\n') {
        return 0;
    }
    *item = ctx->encoding == NULL ? PyBytes_FromStringAndSize(data + after, (Py_ssize_t)len)
                                  : make_string(ctx, data + after, (size_t)len);
    *pos = after + len + 2;
    return 1;
}

/* What a fill loop took: record it (and the error that stopped it). */
static int64_t
fill_done(resp_parser *p, resp_frame *f, size_t pos, int64_t taken, int failed)
{
    if (taken) {
        p->pos = pos;
        p->line_from = 0;
        f->left -= taken;
    }
    if (failed) {
        defer_error(p);
    }
    return taken;
}

/* The aggregate being built is a list and bulk strings follow (an LRANGE,
 * an MGET): store the complete ones in a tight loop, all but the list's last
 * element, which the general path stores and closes. Stops at anything else
 * (the general path deals with it). Returns how many elements it took. */
static int64_t
fill_list_bulks(resp_parser *p, const resp_build_ctx *ctx)
{
    resp_frame *f = &p->stack[p->depth - 1];
    size_t pos = p->pos;
    int64_t taken = 0, most = f->left - 1; /* locals: the loop calls out */
    PyObject *list = f->obj, *item;
    Py_ssize_t size = PyList_GET_SIZE(list), filled = f->filled;
    int failed = 0;
    while (taken < most && pos < p->end && !p->halt && p->data[pos] == '$' &&
           take_bulk(p, ctx, &pos, &item)) {
        taken++;
        if (item == NULL) {
            failed = 1;
            break;
        }
        if (filled < size) {
            PyList_SET_ITEM(list, filled, item);
        }
        else {
            int r = PyList_Append(list, item);
            Py_DECREF(item);
            if (r < 0) {
                failed = 1;
                break;
            }
        }
        filled++;
    }
    f->filled = filled;
    return fill_done(p, f, pos, taken, failed);
}

/* The same for a map being built (an HGETALL read as a dict, a RESP3 map):
 * keys and values from bulk strings. Keys are bytes or str, so storing them
 * runs no Python code. */
static int64_t
fill_map_bulks(resp_parser *p, const resp_build_ctx *ctx)
{
    resp_frame *f = &p->stack[p->depth - 1];
    size_t pos = p->pos;
    int64_t taken = 0, most = f->left - 1;
    PyObject *item;
    int failed = 0;
    while (taken < most && pos < p->end && !p->halt && p->data[pos] == '$' &&
           take_bulk(p, ctx, &pos, &item)) {
        taken++;
        if (item == NULL) {
            failed = 1;
            break;
        }
        if (f->key == NULL) { /* a key: it waits for its value */
            f->key = item;
            continue;
        }
        int r = PyDict_SetItem(f->obj, f->key, item);
        Py_CLEAR(f->key);
        Py_DECREF(item);
        if (r < 0) {
            failed = 1;
            break;
        }
    }
    return fill_done(p, f, pos, taken, failed);
}

int
resp_parse(resp_parser *p, const resp_build_ctx *ctx, int build, PyObject **out,
           size_t *reply_end)
{
    if (p->failed) {
        return -1;
    }
    if (p->mode == RESP_IDLE) {
        if (p->pos >= p->end) {
            return 0;
        }
        char first = p->data[p->pos];
        if (first == '+' && build && ctx->ok != NULL && (ctx->encoding == NULL || ctx->utf8) &&
            p->end - p->pos >= 5 && memcmp(p->data + p->pos, "+OK\r\n", 5) == 0) {
            /* the reply to SET and friends: no search, and as bytes no new
             * object (no Python code runs here: UTF-8 is decoded in C) */
            PyObject *obj = ctx->encoding == NULL ? Py_NewRef(ctx->ok)
                                                  : PyUnicode_DecodeUTF8("OK", 2, NULL);
            p->pos += 5;
            p->line_from = 0;
            p->reply_type = '+';
            *reply_end = p->pos;
            *out = obj;
            return 1; /* NULL: out of memory, that reply's exception */
        }
        if (first == '$' && build && resp_take_whole_bulk(p, ctx, out, reply_end)) {
            return 1; /* NULL: out of memory, that reply's exception */
        }
        p->mode = build ? RESP_BUILD : RESP_SCAN;
    }
    /* Python code may run while building (codecs, the error class): the
     * buffer must stay where it is until we return. */
    p->busy = 1;
    int ret;
    for (;;) {
        if (p->pos >= p->end) {
            ret = 0;
            goto done;
        }
        if (p->halt) { /* the owner closed while we called out: build no more */
            drop_frames(p);
            Py_CLEAR(p->error);
            ret = set_error(p, "Protocol error: closed while a reply was read");
            goto done;
        }
        const char *data = p->data;
        char t = data[p->pos];
        int making = p->mode == RESP_BUILD && p->error == NULL && p->n_attr == 0;
        PyObject *obj = NULL;
        if (t == '$' && making && p->depth > 0 && p->stack[p->depth - 1].left > 1) {
            char kind = p->stack[p->depth - 1].kind;
            if ((kind == '*' && fill_list_bulks(p, ctx) > 0) ||
                (kind == '%' && fill_map_bulks(p, ctx) > 0)) {
                continue;
            }
        }
        if (t == '$') {
            /* Fast path for the commonest element, a bulk string whose
             * "$<digits>\r\n" header is complete; anything else (a null,
             * a bad or partial header) takes the general path below. */
            size_t len;
            const char *payload = resp_bulk_header(data + p->pos, data + p->end, &len);
            if (payload != NULL) {
                size_t after = (size_t)(payload - data);
                if (p->end - after < len + 2) {
                    p->line_from = after - 2; /* the header's CR */
                    ret = 0; /* payload not all here yet */
                    goto done;
                }
                if (data[after + len] != '\r' || data[after + len + 1] != '\n') {
                    ret = set_error(p, "Protocol error: bulk string not terminated by CRLF");
                    goto done;
                }
                p->pos = after + len + 2;
                p->line_from = 0;
                if (making) {
                    obj = ctx->encoding == NULL
                              ? PyBytes_FromStringAndSize(data + after, (Py_ssize_t)len)
                              : make_string(ctx, data + after, (size_t)len);
                }
                if (p->depth == 0) {
                    p->reply_type = '$';
                }
                goto element_done;
            }
        }
        size_t from = p->line_from > p->pos + 1 ? p->line_from : p->pos + 1;
        const char *cr = find_crlf(data + from, data + p->end);
        if (cr == NULL) {
            size_t pending = p->end - p->pos - 1;
            if (pending > 0 && data[p->end - 1] == '\r') {
                pending--; /* the CR of a CRLF whose LF is still to come */
            }
            if (is_header_type(t) && pending > AIOR_MAX_HEADER_LINE) {
                ret = set_error(p, "Protocol error: header line too long");
                goto done;
            }
            if (!is_header_type(t) && t != '+' && t != '-') {
                ret = set_error(p, "Protocol error, got \"%c\" as reply type byte",
                                t >= 32 && t < 127 ? t : '?');
                goto done;
            }
            if (pending > (size_t)AIOR_MAX_BULK_LEN) {
                ret = set_error(p, "Protocol error: line too long");
                goto done;
            }
            /* the CR may be the last byte buffered: look at it again */
            p->line_from = p->end - 1;
            ret = 0;
            goto done;
        }
        const char *line = data + p->pos + 1;
        size_t n = (size_t)(cr - line);
        size_t after = (size_t)(cr - data) + 2;
        size_t next = after;
        int64_t v = -1;
        double d;

        if (is_header_type(t) && n > AIOR_MAX_HEADER_LINE) {
            ret = set_error(p, "Protocol error: header line too long");
            goto done;
        }
        switch (t) {
        case '+':
        case '-':
        case '_':
            if (t == '_' && n != 0) {
                ret = set_error(p, "Protocol error: bad null value");
                goto done;
            }
            break;
        case ':':
            if (parse_int64(line, n, &v) < 0) {
                ret = set_error(p, "Protocol error: bad integer value");
                goto done;
            }
            break;
        case '(':
            if (!is_digits(line, n)) {
                ret = set_error(p, "Protocol error: bad big number value");
                goto done;
            }
            break;
        case ',':
            if (parse_double(line, n, &d) < 0) {
                ret = set_error(p, "Protocol error: bad double value");
                goto done;
            }
            break;
        case '#':
            if (n != 1 || (line[0] != 't' && line[0] != 'f')) {
                ret = set_error(p, "Protocol error: bad boolean value");
                goto done;
            }
            break;
        case '$':
        case '!':
        case '=':
            if (parse_length(line, n, &v) < 0 || v > AIOR_MAX_BULK_LEN) {
                ret = set_error(p, "Protocol error: bad bulk length");
                goto done;
            }
            if (v >= 0) {
                if (t == '=' && v < 4) {
                    ret = set_error(p, "Protocol error: verbatim string too short");
                    goto done;
                }
                if (p->end - after < (size_t)v + 2) {
                    p->line_from = (size_t)(cr - data);
                    ret = 0; /* payload not all here yet */
                    goto done;
                }
                if (data[after + (size_t)v] != '\r' || data[after + (size_t)v + 1] != '\n') {
                    ret = set_error(p, "Protocol error: bulk string not terminated by CRLF");
                    goto done;
                }
                next = after + (size_t)v + 2;
            }
            break;
        case '*':
        case '%':
        case '~':
        case '>':
        case '|':
            if (parse_length(line, n, &v) < 0 || v > AIOR_MAX_COUNT || (t == '|' && v < 0)) {
                ret = set_error(p, "Protocol error: bad aggregate count");
                goto done;
            }
            if (v >= 0 && p->depth >= AIOR_MAX_DEPTH) { /* -1 is a null, not an aggregate */
                ret = set_error(p, "Protocol error: nesting deeper than %d", AIOR_MAX_DEPTH);
                goto done;
            }
            if (t == '|') { /* an attribute annotates the element after it: skipped */
                p->pos = after;
                p->line_from = 0;
                if (v > 0 && (ret = push_frame(p, v * 2, '|', NULL)) < 0) {
                    goto done;
                }
                continue;
            }
            if (p->depth == 0) {
                p->reply_type = t;
            }
            /* the caller converts [k1, v1, ...] to a dict: build the dict */
            int as_map = t == '%' || (t == '*' && making && p->depth == 0 && ctx->flat_map &&
                                      v % 2 == 0);
            if (v > 0) {
                PyObject *container = NULL;
                if (making) {
                    container = new_container(p, as_map, t == '%' ? v * 2 : v, after);
                    if (container == NULL) {
                        defer_error(p);
                    }
                }
                p->pos = after;
                p->line_from = 0;
                if ((ret = push_frame(p, t == '%' ? v * 2 : v, as_map ? '%' : '*',
                                      container)) < 0) {
                    goto done;
                }
                continue;
            }
            if (making && v == 0) {
                obj = as_map ? PyDict_New() : PyList_New(0);
                making = 0; /* made (or failed) here, not by make_scalar */
                if (obj == NULL) {
                    defer_error(p);
                }
            }
            break;
        default:
            ret = set_error(p, "Protocol error, got \"%c\" as reply type byte",
                            t >= 32 && t < 127 ? t : '?');
            goto done;
        }
        if (p->depth == 0) {
            p->reply_type = t;
        }
        if (making) {
            obj = make_scalar(ctx, t, line, n, data + after, v);
        }
        p->pos = next;
        p->line_from = 0;
    element_done:
        if (making && obj == NULL) {
            defer_error(p);
        }
        /* One element is complete: store it, and close every aggregate it
         * completes (each becomes an element of its parent in turn). */
        for (;;) {
            if (p->depth == 0) {
                *reply_end = p->pos;
                if (p->mode == RESP_SCAN) {
                    ret = 2;
                }
                else if (p->error != NULL) {
                    Py_CLEAR(obj);
                    aior_restore_exception(p->error);
                    p->error = NULL;
                    ret = 1;
                }
                else {
                    ret = 1;
                }
                *out = obj;
                p->mode = RESP_IDLE;
                goto done;
            }
            resp_frame *top = &p->stack[p->depth - 1];
            if (obj != NULL) {
                if (top->obj != NULL) {
                    store_item(p, top, obj);
                }
                else { /* an attribute's contents, or a reply that already failed */
                    Py_DECREF(obj);
                }
                obj = NULL;
            }
            if (--top->left > 0) {
                break;
            }
            p->depth--;
            if (top->kind == '|') {
                p->n_attr--;
                break; /* not an element of its parent */
            }
            obj = top->obj;
            top->obj = NULL;
        }
    }
done:
    p->busy = 0;
    return ret;
}

void
resp_stop_building(resp_parser *p)
{
    if (p->mode == RESP_BUILD) {
        drop_frames(p);
        Py_CLEAR(p->error);
        p->mode = RESP_SCAN;
    }
}

PyObject *
resp_build(resp_parser *p, const resp_build_ctx *ctx, size_t end)
{
    /* Parse the scanned reply again, from its start, making objects. */
    PyObject *result = NULL;
    size_t again = 0;
    p->pos = p->start;
    p->line_from = 0;
    p->funded_to = 0; /* the scan preallocated nothing */
    p->mode = RESP_IDLE;
    int r = resp_parse(p, ctx, 1, &result, &again);
    if (r != 1 || again != end) {
        Py_XDECREF(result);
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_SystemError, "aioredis: a scanned reply did not parse again");
        }
        return NULL;
    }
    return result;
}

char
resp_reply_type(const resp_parser *p)
{
    return p->reply_type;
}

int
resp_ctx_set_encoding(resp_build_ctx *ctx, PyObject *encoding, PyObject *errors)
{
    ctx->encoding = NULL;
    ctx->errors = NULL;
    ctx->utf8 = 0;
    if (encoding != NULL && encoding != Py_None) {
        if (!PyUnicode_Check(encoding)) {
            PyErr_Format(PyExc_TypeError, "encoding must be a str or None, not %.100s",
                         Py_TYPE(encoding)->tp_name);
            return -1;
        }
        ctx->encoding = PyUnicode_AsUTF8(encoding);
        if (ctx->encoding == NULL) {
            return -1;
        }
        const char *e = ctx->encoding;
        ctx->utf8 = (strcmp(e, "utf-8") == 0 || strcmp(e, "utf8") == 0 ||
                     strcmp(e, "UTF-8") == 0 || strcmp(e, "UTF8") == 0);
    }
    if (errors != NULL && errors != Py_None) {
        if (!PyUnicode_Check(errors)) {
            PyErr_Format(PyExc_TypeError, "errors must be a str or None, not %.100s",
                         Py_TYPE(errors)->tp_name);
            return -1;
        }
        ctx->errors = PyUnicode_AsUTF8(errors);
        if (ctx->errors == NULL) {
            return -1;
        }
    }
    return 0;
}
