/* Large replies, read straight into their bytes object. */
#include "protocol.h"

#include <string.h>

/* ---------------------------------------------------------- large replies
 *
 * A bulk reply of BIG_BULK bytes or more is not accumulated in the parser's
 * buffer and then copied: once its header is in, its payload goes straight
 * into the bytes object that becomes the reply (get_buffer() hands out the
 * object's free tail), which grows with what has arrived (never with the
 * declared length). So a 100 MB value costs about 100 MB, not 2-3 times it.
 * Only a top-level bulk string (the reply to GET and friends) qualifies. */

#define BIG_BULK (1024 * 1024)
#define BIG_AHEAD (4 * 1024 * 1024)

void
aior_big_drop(ProtocolObject *self, PyObject *obj)
{
    if (obj == NULL) {
        return;
    }
    if (self->big_exports > 0) { /* a view may point into it: keep it alive */
        if (self->big_retired == NULL) {
            self->big_retired = PyList_New(0);
        }
        if (self->big_retired == NULL || PyList_Append(self->big_retired, obj) < 0) {
            PyErr_WriteUnraisable((PyObject *)self);
        }
    }
    Py_DECREF(obj);
}

/* Switch to reading a large bulk reply into its own object if one has begun.
 * 1 if switched, 0 if not, -2 on error (exception set). */
int
aior_big_start(ProtocolObject *self)
{
    resp_parser *p = &self->parser;
    if (self->big != NULL || p->end == p->start || p->depth != 0 || p->pos != p->start ||
        self->count == 0 || aior_in_pubsub_mode(self)) {
        return 0;
    }
    const char *d = p->data + p->start, *e = p->data + p->end;
    size_t len;
    const char *payload = d < e && d[0] == '$' ? resp_bulk_header(d, e, &len) : NULL;
    if (payload == NULL || len < BIG_BULK) {
        return 0;
    }
    size_t have = (size_t)(e - payload); /* < len + 2: the scan wanted more */
    /* Room for up to BIG_AHEAD bytes more than have arrived: a value of up
     * to that size lands in one allocation, never moved by regrowth, so it
     * is copied once (by the socket read). That is address space: pages are
     * only touched, and memory used, as the bytes arrive. Larger values grow
     * by doubling. */
    size_t size = have + BIG_AHEAD;
    if (size > len + 2) {
        size = len + 2;
    }
    PyObject *obj = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size);
    if (obj == NULL) {
        return -2;
    }
    memcpy(PyBytes_AS_STRING(obj), payload, have);
    resp_consume(p, p->end);
    self->big = obj;
    self->big_filled = have;
    self->big_len = (size_t)len;
    return 1;
}

/* Make room in big for more bytes. 0, or -1 with an exception set. */
int
aior_big_reserve(ProtocolObject *self)
{
    size_t size = (size_t)PyBytes_GET_SIZE(self->big), need = self->big_len + 2;
    if (self->big_filled < size) {
        return 0;
    }
    size_t new_size = size * 2 < need ? size * 2 : need;
    if (self->big_exports == 0) {
        /* ours alone (refcount 1): large blocks grow in place (mremap) */
        return aior_bytes_resize(&self->big, (Py_ssize_t)new_size);
    }
    PyObject *obj = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)new_size);
    if (obj == NULL) {
        return -1;
    }
    memcpy(PyBytes_AS_STRING(obj), PyBytes_AS_STRING(self->big), self->big_filled);
    PyObject *old = self->big;
    self->big = obj;
    aior_big_drop(self, old);
    return 0;
}

/* All of big has arrived: check its CRLF and deliver it. */
void
aior_big_finish(ProtocolObject *self)
{
    aior_state *st = self->st;
    PyObject *obj = self->big;
    self->big = NULL;
    char *s = PyBytes_AS_STRING(obj);
    size_t len = self->big_len;
    if (s[len] != '\r' || s[len + 1] != '\n') {
        aior_big_drop(self, obj);
        PyOS_snprintf(self->parser.errmsg, sizeof(self->parser.errmsg),
                      "Protocol error: bulk string not terminated by CRLF");
        aior_protocol_failed(self);
        return;
    }
    /* drop the CRLF without moving the data (a view may point into it) */
    s[len] = '\0';
    Py_SET_SIZE(obj, (Py_ssize_t)len);
    if (self->big_exports > 0) {
        aior_big_drop(self, Py_NewRef(obj)); /* keep the memory until the view goes */
    }
    waiter w = aior_ring_pop(self);
    PyObject *reply = obj;
    if (w.encoding != NULL) {
        resp_build_ctx ctx = {st->ReplyError, NULL, NULL, 0};
        reply = NULL;
        if (resp_ctx_set_encoding(&ctx, w.encoding, NULL) == 0) {
            reply = ctx.utf8 ? PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, NULL)
                             : PyUnicode_Decode(s, (Py_ssize_t)len, ctx.encoding, NULL);
        }
        Py_DECREF(obj);
    }
    aior_on_reply(self, &w, '$', reply);
    Py_XDECREF(reply);
    aior_waiter_release(&w);
}

/* Copy bytes received by data_received() into big; returns how many it took. */
size_t
aior_big_receive(ProtocolObject *self, const char *src, size_t n)
{
    size_t taken = 0;
    while (self->big != NULL && taken < n) {
        if (aior_big_reserve(self) < 0) {
            PyObject *exc = aior_fetch_exception();
            aior_close_with(self, self->st->ConnectionClosedError,
                       "Connection closed: out of memory while reading", exc);
            Py_XDECREF(exc);
            return n;
        }
        size_t room = (size_t)PyBytes_GET_SIZE(self->big) - self->big_filled;
        size_t k = n - taken < room ? n - taken : room;
        memcpy(PyBytes_AS_STRING(self->big) + self->big_filled, src + taken, k);
        self->big_filled += k;
        taken += k;
        if (self->big_filled == self->big_len + 2) {
            aior_big_finish(self);
        }
    }
    return taken;
}

