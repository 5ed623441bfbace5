/* Pub/Sub on the protocol: acknowledgements and routing messages to the
 * Channel objects (see RedisConnection.execute_pubsub). */
#include "protocol.h"

#include <string.h>

/* Call channel.close() for every channel in `mapping` and empty it. The
 * mapping is emptied first: close() is Python and may look at it. */
void
aior_close_channels(ProtocolObject *self, PyObject *mapping)
{
    if (mapping == NULL || PyDict_GET_SIZE(mapping) == 0) {
        return;
    }
    PyObject *values = PyDict_Values(mapping);
    if (values == NULL) {
        PyErr_WriteUnraisable((PyObject *)self);
        return;
    }
    PyDict_Clear(mapping);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(values); i++) {
        PyObject *ch = PyList_GET_ITEM(values, i);
        PyObject *r = PyObject_CallMethodNoArgs(ch, self->st->str_close);
        if (r == NULL) {
            PyErr_WriteUnraisable(ch);
        }
        Py_XDECREF(r);
    }
    Py_DECREF(values);
}

/* [kind, name, count]: record the count; an unsubscribe closes its channel. */
void
aior_on_pubsub_ack(ProtocolObject *self, PyObject *reply)
{
    if (!PyList_Check(reply) || PyList_GET_SIZE(reply) != 3) {
        return;
    }
    PyObject *kind = PyList_GET_ITEM(reply, 0);
    PyObject *name = PyList_GET_ITEM(reply, 1);
    PyObject *count = PyList_GET_ITEM(reply, 2);
    if (PyLong_Check(count)) {
        Py_ssize_t n = PyLong_AsSsize_t(count);
        if (n == -1 && PyErr_Occurred()) {
            PyErr_Clear();
        }
        else {
            self->in_pubsub = n;
        }
    }
    if (!PyBytes_Check(kind) || !PyBytes_Check(name)) {
        return;
    }
    PyObject *mapping = NULL;
    if (strcmp(PyBytes_AS_STRING(kind), "unsubscribe") == 0) {
        mapping = self->channels;
    }
    else if (strcmp(PyBytes_AS_STRING(kind), "punsubscribe") == 0) {
        mapping = self->patterns;
    }
    if (mapping == NULL) {
        return;
    }
    PyObject *ch = PyDict_GetItemWithError(mapping, name); /* borrowed */
    if (ch == NULL) {
        if (PyErr_Occurred()) {
            PyErr_WriteUnraisable((PyObject *)self);
        }
        return;
    }
    Py_INCREF(ch);
    if (PyDict_DelItem(mapping, name) < 0) {
        PyErr_WriteUnraisable((PyObject *)self);
    }
    PyObject *r = PyObject_CallMethodNoArgs(ch, self->st->str_close);
    if (r == NULL) {
        PyErr_WriteUnraisable(ch);
    }
    Py_XDECREF(r);
    Py_DECREF(ch);
}

/* In subscribe mode, is the buffered reply a message (not a reply to a
 * command)? Redis sends them as *3 message / *4 pmessage arrays (RESP3
 * pushes go to aior_on_push). Only a first look: the router checks the
 * object built. */
int
aior_is_message(const resp_parser *p, size_t end)
{
    static const char message[] = "3\r\n$7\r\nmessage\r\n";
    static const char pmessage[] = "4\r\n$8\r\npmessage\r\n";
    const char *d = p->data + p->start;
    size_t n = end - p->start;
    if (n < 2 || d[0] != '*') {
        return 0;
    }
    if (n > sizeof(message) && memcmp(d + 1, message, sizeof(message) - 1) == 0) {
        return 1;
    }
    return n > sizeof(pmessage) && memcmp(d + 1, pmessage, sizeof(pmessage) - 1) == 0;
}

static int
bytes_is(PyObject *obj, const char *s)
{
    size_t n = strlen(s);
    return PyBytes_Check(obj) && (size_t)PyBytes_GET_SIZE(obj) == n &&
           memcmp(PyBytes_AS_STRING(obj), s, n) == 0;
}

/* A list of n bytes objects, the first equal to kind. */
static int
is_bytes_list(PyObject *obj, Py_ssize_t n, const char *kind)
{
    if (!PyList_Check(obj) || PyList_GET_SIZE(obj) != n ||
        !bytes_is(PyList_GET_ITEM(obj, 0), kind)) {
        return 0;
    }
    for (Py_ssize_t i = 1; i < n; i++) {
        if (!PyBytes_Check(PyList_GET_ITEM(obj, i))) {
            return 0;
        }
    }
    return 1;
}

/* If msg (a built reply, or NULL with its exception set) is a message,
 * hand it to its Channel: channel.put_nowait(data), or for a pattern
 * put_nowait((channel_name, data)); a message for nobody is dropped.
 * 1: it was a message (or failed to build: reported, dropped); 0: it is
 * not one, nothing done. */
int
aior_route_message(ProtocolObject *self, PyObject *msg)
{
    if (msg == NULL) {
        PyErr_WriteUnraisable((PyObject *)self);
        return 1;
    }
    PyObject *target = NULL, *item = NULL;
    if (is_bytes_list(msg, 3, "message")) {
        target = PyDict_GetItemWithError(self->channels, PyList_GET_ITEM(msg, 1));
        item = Py_NewRef(PyList_GET_ITEM(msg, 2));
    }
    else if (is_bytes_list(msg, 4, "pmessage")) {
        target = PyDict_GetItemWithError(self->patterns, PyList_GET_ITEM(msg, 1));
        item = PyTuple_Pack(2, PyList_GET_ITEM(msg, 2), PyList_GET_ITEM(msg, 3));
    }
    else {
        return 0;
    }
    if (target != NULL && item != NULL) {
        Py_INCREF(target); /* borrowed from a dict Python code can change */
        PyObject *r = PyObject_CallMethodOneArg(target, self->st->str_put_nowait, item);
        if (r == NULL) {
            PyErr_WriteUnraisable(target);
        }
        Py_XDECREF(r);
        Py_DECREF(target);
    }
    else if (PyErr_Occurred()) {
        PyErr_WriteUnraisable((PyObject *)self);
    }
    Py_XDECREF(item);
    return 1;
}

static int
is_subscribe_ack(PyObject *push)
{
    static const char *const kinds[] = {"subscribe",  "psubscribe",  "unsubscribe",
                                        "punsubscribe", "ssubscribe", "sunsubscribe"};
    if (!PyList_Check(push) || PyList_GET_SIZE(push) == 0) {
        return 0;
    }
    PyObject *kind = PyList_GET_ITEM(push, 0);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (bytes_is(kind, kinds[i])) {
            return 1;
        }
    }
    return 0;
}

/* A complete RESP3 push (built as bytes; the caller's reference). A
 * subscribe-family acknowledgement is the reply of a waiter waiting for
 * one; a message goes to its channel; anything else to push_handler, if
 * set (see docs/internals.rst, "Pub/Sub routing"). */
void
aior_on_push(ProtocolObject *self, PyObject *push)
{
    if (!PyList_Check(push)) {
        return; /* a null push (>-1) carries nothing */
    }
    if (is_subscribe_ack(push) && self->count > 0 &&
        self->ring[self->head].kind == KIND_PUBSUB_ACK) {
        waiter w = aior_ring_pop(self);
        aior_on_reply(self, &w, '>', push);
        aior_waiter_release(&w);
        return;
    }
    if (aior_route_message(self, push) || self->push_handler == NULL) {
        return;
    }
    PyObject *handler = Py_NewRef(self->push_handler); /* it may unset itself */
    PyObject *r = PyObject_CallOneArg(handler, push);
    if (r == NULL) {
        PyErr_WriteUnraisable(handler);
    }
    Py_XDECREF(r);
    Py_DECREF(handler);
}
