/* RESP scanner (validates, resumable) and builder (makes Python objects). */
#include "resp.h"

#include <assert.h>
#include <stdarg.h>
#include <string.h>

#define INITIAL_CAP 16384
#define IDLE_SHRINK_CAP (1024 * 1024)

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

void
resp_free(resp_parser *p)
{
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
    }
}

size_t
resp_buffered(const resp_parser *p)
{
    return p->end - p->start;
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
resp_consume(resp_parser *p, size_t end)
{
    p->start = end;
    if (p->pos < end) {
        p->pos = end;
    }
    if (p->start == p->end) {
        p->start = p->end = p->pos = 0;
        p->line_from = 0;
        /* A huge reply is gone: give its memory back. */
        if (p->cap > IDLE_SHRINK_CAP) {
            if (p->exports == 0) {
                PyMem_Free(p->data);
                p->data = NULL;
                p->cap = 0;
            }
            /* else a view may point into it: keep it, it is reused */
        }
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

static int
push_frame(resp_parser *p, int64_t left, int is_attr)
{
    if (p->depth >= AIOR_MAX_DEPTH) {
        return set_error(p, "Protocol error: nesting deeper than %d", AIOR_MAX_DEPTH);
    }
    if (p->depth == p->stack_cap) {
        int cap = p->stack_cap ? p->stack_cap * 2 : 8;
        if (cap > AIOR_MAX_DEPTH) {
            cap = AIOR_MAX_DEPTH;
        }
        resp_frame *stack = PyMem_Realloc(p->stack, (size_t)cap * sizeof(resp_frame));
        if (stack == NULL) {
            PyErr_NoMemory();
            return -2;
        }
        p->stack = stack;
        p->stack_cap = cap;
    }
    p->stack[p->depth].left = left;
    p->stack[p->depth].is_attr = is_attr;
    p->depth++;
    return 0;
}

int
resp_scan(resp_parser *p, size_t *reply_end)
{
    if (p->failed) {
        return -1;
    }
    for (;;) {
        if (p->pos >= p->end) {
            return 0;
        }
        const char *data = p->data;
        char t = data[p->pos];
        if (t == '$') {
            /* Fast path for the commonest element, a bulk string whose
             * "$<digits>\r\n" header is complete; anything else (a null,
             * a bad or partial header) takes the general path below. */
            const char *digits = data + p->pos + 1, *q = digits, *e = data + p->end;
            uint64_t len = 0;
            while (q < e && (unsigned char)(*q - '0') <= 9 && q - digits < 10) {
                len = len * 10 + (uint64_t)(*q - '0');
                q++;
            }
            if (q > digits && e - q >= 2 && q[0] == '\r' && q[1] == '\n' &&
                len <= (uint64_t)AIOR_MAX_BULK_LEN) {
                size_t after = (size_t)(q - data) + 2;
                if (p->end - after < len + 2) {
                    p->line_from = (size_t)(q - data);
                    return 0; /* payload not all here yet */
                }
                if (data[after + len] != '\r' || data[after + len + 1] != '\n') {
                    return set_error(p, "Protocol error: bulk string not terminated by CRLF");
                }
                p->pos = after + len + 2;
                p->line_from = 0;
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
                return set_error(p, "Protocol error: header line too long");
            }
            if (!is_header_type(t) && t != '+' && t != '-') {
                return set_error(p, "Protocol error, got \"%c\" as reply type byte",
                                 t >= 32 && t < 127 ? t : '?');
            }
            if (pending > (size_t)AIOR_MAX_BULK_LEN) {
                return set_error(p, "Protocol error: line too long");
            }
            /* the CR may be the last byte buffered: look at it again */
            p->line_from = p->end - 1;
            return 0;
        }
        const char *line = data + p->pos + 1;
        size_t n = (size_t)(cr - line);
        size_t after = (size_t)(cr - data) + 2;
        size_t next = after;
        int64_t v;
        double d;
        int counts = 1;  /* this element fills one slot of its parent */

        if (is_header_type(t) && n > AIOR_MAX_HEADER_LINE) {
            return set_error(p, "Protocol error: header line too long");
        }
        switch (t) {
        case '+':
        case '-':
            break;
        case ':':
            if (parse_int64(line, n, &v) < 0) {
                return set_error(p, "Protocol error: bad integer value");
            }
            break;
        case '(':
            if (!is_digits(line, n)) {
                return set_error(p, "Protocol error: bad big number value");
            }
            break;
        case ',':
            if (parse_double(line, n, &d) < 0) {
                return set_error(p, "Protocol error: bad double value");
            }
            break;
        case '#':
            if (n != 1 || (line[0] != 't' && line[0] != 'f')) {
                return set_error(p, "Protocol error: bad boolean value");
            }
            break;
        case '_':
            if (n != 0) {
                return set_error(p, "Protocol error: bad null value");
            }
            break;
        case '$':
        case '!':
        case '=':
            if (parse_length(line, n, &v) < 0 || v > AIOR_MAX_BULK_LEN) {
                return set_error(p, "Protocol error: bad bulk length");
            }
            if (v >= 0) {
                if (t == '=' && v < 4) {
                    return set_error(p, "Protocol error: verbatim string too short");
                }
                if (p->end - after < (size_t)v + 2) {
                    p->line_from = (size_t)(cr - data);
                    return 0; /* payload not all here yet */
                }
                if (data[after + (size_t)v] != '\r' || data[after + (size_t)v + 1] != '\n') {
                    return set_error(p, "Protocol error: bulk string not terminated by CRLF");
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
                return set_error(p, "Protocol error: bad aggregate count");
            }
            if (v >= 0 && p->depth >= AIOR_MAX_DEPTH) { /* -1 is a null, not an aggregate */
                return set_error(p, "Protocol error: nesting deeper than %d", AIOR_MAX_DEPTH);
            }
            if (t == '|') {
                counts = 0; /* an attribute annotates the element after it */
            }
            if (v > 0) {
                int r = push_frame(p, (t == '%' || t == '|') ? v * 2 : v, t == '|');
                if (r < 0) {
                    return r == -2 ? -2 : -1;
                }
                p->pos = after;
                p->line_from = 0;
                continue;
            }
            break;
        default:
            return set_error(p, "Protocol error, got \"%c\" as reply type byte",
                             t >= 32 && t < 127 ? t : '?');
        }
        p->pos = next;
        p->line_from = 0;
        if (!counts) {
            continue;
        }
    element_done:
        /* One element is complete: close every aggregate it completes. */
        for (;;) {
            if (p->depth == 0) {
                *reply_end = p->pos;
                return 1;
            }
            resp_frame *top = &p->stack[p->depth - 1];
            if (--top->left > 0) {
                break;
            }
            p->depth--;
            if (top->is_attr) {
                break;
            }
        }
    }
}

/* ---------------------------------------------------------------- building */

/* The builder reads bytes the scanner has validated, so it only re-reads
 * headers; it never checks bounds the scanner already checked. */

typedef struct {
    const char *data;
    size_t pos;
    size_t end; /* end of the reply */
    const resp_build_ctx *ctx;
} builder;

static void
read_line(builder *b, const char **line, size_t *n)
{
    const char *start = b->data + b->pos + 1;
    const char *cr = find_crlf(start, b->data + b->end);
    assert(cr != NULL);
    *line = start;
    *n = (size_t)(cr - start);
    b->pos = (size_t)(cr - b->data) + 2;
}

static void skip_element(builder *b);

/* Attributes carry metadata we do not expose: step over any that precede
 * the element at b->pos (a loop, so a long run of them cannot recurse). */
static void
skip_attributes(builder *b)
{
    while (b->data[b->pos] == '|') {
        const char *line;
        size_t n;
        read_line(b, &line, &n);
        int64_t v = 0;
        (void)parse_length(line, n, &v);
        for (int64_t i = 0; i < 2 * v; i++) {
            skip_element(b);
        }
    }
}

static int64_t
read_count(const char *line, size_t n)
{
    int64_t v = 0;
    (void)parse_length(line, n, &v);
    return v;
}

static void
skip_element(builder *b)
{
    const char *line;
    size_t n;
    skip_attributes(b);
    char t = b->data[b->pos];
    read_line(b, &line, &n);
    int64_t v;
    switch (t) {
    case '$':
    case '!':
    case '=':
        v = read_count(line, n);
        if (v >= 0) {
            b->pos += (size_t)v + 2;
        }
        return;
    case '*':
    case '~':
    case '>':
        v = read_count(line, n);
        for (int64_t i = 0; i < v; i++) {
            skip_element(b);
        }
        return;
    case '%':
        v = read_count(line, n);
        for (int64_t i = 0; i < 2 * v; i++) {
            skip_element(b);
        }
        return;
    default:
        return;
    }
}

static PyObject *
make_string(builder *b, const char *s, size_t n)
{
    const resp_build_ctx *ctx = b->ctx;
    if (ctx->encoding == NULL) {
        return PyBytes_FromStringAndSize(s, (Py_ssize_t)n);
    }
    if (ctx->utf8) {
        return PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, ctx->errors);
    }
    return PyUnicode_Decode(s, (Py_ssize_t)n, ctx->encoding, ctx->errors);
}

static PyObject *
make_error(builder *b, const char *s, size_t n)
{
    PyObject *msg = PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, "replace");
    if (msg == NULL) {
        return NULL;
    }
    PyObject *err = PyObject_CallOneArg(b->ctx->reply_error, msg);
    Py_DECREF(msg);
    return err;
}

static PyObject *build_element(builder *b);

/* A validated "$<digits>\r\n<payload>\r\n" (not a null): no line search. */
static inline PyObject *
build_bulk(builder *b)
{
    const char *q = b->data + b->pos + 1;
    size_t len = 0;
    while (*q != '\r') {
        len = len * 10 + (size_t)(*q - '0');
        q++;
    }
    const char *payload = q + 2;
    b->pos = (size_t)(payload - b->data) + len + 2;
    if (b->ctx->encoding == NULL) {
        return PyBytes_FromStringAndSize(payload, (Py_ssize_t)len);
    }
    return make_string(b, payload, len);
}

static PyObject *
build_list(builder *b, int64_t count)
{
    PyObject *list = PyList_New((Py_ssize_t)count); /* count <= bytes buffered */
    if (list == NULL) {
        return NULL;
    }
    const char *data = b->data;
    for (int64_t i = 0; i < count; i++) {
        /* bulk strings, the usual items, skip the general dispatch */
        PyObject *item = data[b->pos] == '$' && data[b->pos + 1] != '-' ? build_bulk(b)
                                                                        : build_element(b);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, item); /* steals item */
    }
    return list;
}

static PyObject *
build_map(builder *b, int64_t count)
{
    PyObject *dict = PyDict_New();
    if (dict == NULL) {
        return NULL;
    }
    for (int64_t i = 0; i < count; i++) {
        PyObject *key = build_element(b);
        if (key == NULL) {
            goto error;
        }
        PyObject *value = build_element(b);
        if (value == NULL) {
            Py_DECREF(key);
            goto error;
        }
        int r = PyDict_SetItem(dict, key, value); /* does not steal */
        Py_DECREF(key);
        Py_DECREF(value);
        if (r < 0) {
            goto error;
        }
    }
    return dict;
error:
    Py_DECREF(dict);
    return NULL;
}

static PyObject *
build_element(builder *b)
{
    const char *line;
    size_t n;
    skip_attributes(b);
    char t = b->data[b->pos];
    if (t == '$' && b->data[b->pos + 1] != '-') {
        return build_bulk(b);
    }
    read_line(b, &line, &n);
    int64_t v;
    double d;
    const char *payload = b->data + b->pos;

    switch (t) {
    case '+':
        return make_string(b, line, n);
    case '-':
        return make_error(b, line, n);
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
    case '_':
        Py_RETURN_NONE;
    case '$':
    case '!':
    case '=':
        v = read_count(line, n);
        if (v < 0) {
            Py_RETURN_NONE;
        }
        b->pos += (size_t)v + 2;
        if (t == '$') {
            return make_string(b, payload, (size_t)v);
        }
        if (t == '=') {
            return make_string(b, payload + 4, (size_t)v - 4);
        }
        return make_error(b, payload, (size_t)v);
    case '*':
    case '~':
    case '>':
        v = read_count(line, n);
        if (v < 0) {
            Py_RETURN_NONE;
        }
        return build_list(b, v);
    case '%':
        v = read_count(line, n);
        if (v < 0) {
            Py_RETURN_NONE;
        }
        return build_map(b, v);
    default:
        /* unreachable: the scanner rejected every other type byte */
        PyErr_SetString(PyExc_SystemError, "aioredis: unscanned RESP type");
        return NULL;
    }
}

PyObject *
resp_build(resp_parser *p, const resp_build_ctx *ctx, size_t end)
{
    builder b = {p->data, p->start, end, ctx};
    /* Python code may run while building (codecs, the error class): keep the
     * buffer where it is until we are done. */
    p->busy = 1;
    PyObject *result = build_element(&b);
    p->busy = 0;
    return result;
}

char
resp_reply_type(const resp_parser *p, size_t end)
{
    builder b = {p->data, p->start, end, NULL};
    skip_attributes(&b);
    return b.data[b.pos];
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
