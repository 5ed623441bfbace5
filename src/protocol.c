/* aioredis._core.RedisProtocolBase: an asyncio protocol that owns a FIFO of
 * waiting futures and resolves them from C as replies arrive.
 *
 * Write path: execute() encodes the command into a pending output buffer,
 * queues a future and returns it. On an idle connection (no reply awaited,
 * not corked) the command is written at once; otherwise one flush per loop
 * iteration (scheduled with loop.call_soon) hands everything queued so far
 * to transport.write.
 * Read path: data_received() parses every complete reply and pops one
 * waiter per reply, in order (a pub/sub message or a RESP3 push pops none:
 * see process_replies). A waiter whose caller gave up (its future is
 * cancelled) keeps its place: its reply is read and dropped.
 *
 * Re-entrancy: set_result, set_exception, codecs and the error class are
 * Python code. A waiter is popped (owned) before any of them runs, no
 * borrowed reference is held across such a call, and the state is checked
 * again after each one.
 */
#include "encoder.h"
#include "protocol.h"

#include <string.h>


/* ------------------------------------------------------------ waiter FIFO */

static int
ring_reserve(ProtocolObject *self, size_t n)
{
    if (self->cap - self->count >= n) {
        return 0;
    }
    size_t cap = self->cap ? self->cap * 2 : 64;
    while (cap - self->count < n) {
        cap *= 2;
    }
    waiter *ring = PyMem_Malloc(cap * sizeof(waiter));
    if (ring == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < self->count; i++) {
        ring[i] = self->ring[(self->head + i) & (self->cap - 1)];
    }
    PyMem_Free(self->ring);
    self->ring = ring;
    self->cap = cap;
    self->head = 0;
    return 0;
}

static void
ring_push(ProtocolObject *self, waiter w)
{
    self->ring[(self->head + self->count) & (self->cap - 1)] = w;
    self->count++;
}

waiter
aior_ring_pop(ProtocolObject *self)
{
    waiter w = self->ring[self->head];
    self->head = (self->head + 1) & (self->cap - 1);
    self->count--;
    return w;
}

void
aior_waiter_release(waiter *w)
{
    Py_CLEAR(w->fut);
    Py_CLEAR(w->encoding);
    Py_CLEAR(w->arg);
    Py_CLEAR(w->convert);
}

/* ----------------------------------------------------- resolving futures */

/* Call fut.set_result(value) or fut.set_exception(value). A future that is
 * already done was cancelled by its caller: its reply is dropped. Nothing
 * escapes: other errors are reported as unraisable. */
void
aior_resolve(ProtocolObject *self, PyObject *fut, PyObject *method, PyObject *value)
{
    if (Py_IS_TYPE(fut, self->st->PipelineFuture_type)) { /* no method call */
        if (aior_future_resolve(fut, value, method == self->st->str_set_exception) < 0) {
            PyErr_WriteUnraisable(fut);
        }
        return;
    }
    PyObject *args[2] = {fut, value};
    PyObject *r = PyObject_VectorcallMethod(method, args, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                            NULL);
    if (r != NULL) {
        Py_DECREF(r);
        return;
    }
    if (PyErr_ExceptionMatches(self->st->InvalidStateError)) {
        PyErr_Clear();
        return;
    }
    PyErr_WriteUnraisable(fut);
}

/* Fail every pending waiter with exc_type(message) (message may be NULL:
 * exc_type()). The FIFO is detached
 * first, so Python code run by set_exception sees an empty, closed
 * connection. */
static void
fail_all(ProtocolObject *self, PyObject *exc_type, PyObject *message, PyObject *cause)
{
    waiter *ring = self->ring;
    size_t head = self->head, count = self->count, cap = self->cap;
    self->ring = NULL;
    self->head = self->count = self->cap = 0;

    for (size_t i = 0; i < count; i++) {
        waiter w = ring[(head + i) & (cap - 1)];
        PyObject *exc = message != NULL ? PyObject_CallOneArg(exc_type, message) : NULL;
        if (exc == NULL) {
            /* out of memory (or no message): a waiter left pending would
             * hang its caller forever; try the bare exception, then cancel */
            if (message != NULL) {
                PyErr_WriteUnraisable(exc_type);
            }
            exc = PyObject_CallNoArgs(exc_type);
        }
        if (exc == NULL) {
            PyErr_WriteUnraisable(exc_type);
            PyObject *r = PyObject_CallMethod(w.fut, "cancel", NULL);
            if (r == NULL) {
                PyErr_WriteUnraisable(w.fut);
            }
            Py_XDECREF(r);
        }
        else {
            if (cause != NULL && cause != Py_None) {
                PyException_SetCause(exc, Py_NewRef(cause)); /* steals */
            }
            aior_resolve(self, w.fut, self->st->str_set_exception, exc);
            Py_DECREF(exc);
        }
        aior_waiter_release(&w);
    }
    PyMem_Free(ring);
}


/* Mark the connection closed (later execute() calls raise
 * ConnectionClosedError(message)), drop unsent output, fail the pending
 * waiters with exc_type(message) and close the transport. */
void
aior_close_with(ProtocolObject *self, PyObject *exc_type, const char *message, PyObject *cause)
{
    if (self->state == STATE_CLOSED) {
        return;
    }
    self->state = STATE_CLOSED;
    self->parser.halt = 1; /* a reply being built (a codec closed us) stops */
    self->sock_fd = -1;
    Py_CLEAR(self->sock);
    Py_CLEAR(self->out);
    self->out_len = self->out_cap = 0;

    /* without its message (out of memory) the rest must still be done:
     * the waiters fail, the transport closes */
    PyObject *msg = PyUnicode_FromString(message);
    if (msg == NULL) {
        PyErr_WriteUnraisable((PyObject *)self);
    }
    else {
        Py_XSETREF(self->close_msg, Py_NewRef(msg));
    }

    fail_all(self, exc_type, msg, cause);
    Py_XDECREF(msg);
    PyObject *big = self->big;
    self->big = NULL;
    aior_big_drop(self, big);
    /* channels end their iteration; what they already received stays */
    self->in_pubsub = self->acks_pending = 0;
    aior_close_channels(self, self->channels);
    aior_close_channels(self, self->patterns);
    /* The transport stays referenced until connection_lost(), which is how
     * the Python layer knows the close has finished. While writing is paused
     * close() would wait for a peer that may never read: abort instead. */
    if (self->transport != NULL) {
        PyObject *r = aior_transport_call(self, self->paused ? self->st->str_abort : self->st->str_close);
        if (r == NULL) {
            PyErr_WriteUnraisable((PyObject *)self);
        }
        Py_XDECREF(r);
    }
}

/* ----------------------------------------------------------------- output */

PyObject *
aior_transport_call(ProtocolObject *self, PyObject *name)
{
    PyObject *transport = Py_NewRef(self->transport); /* the call may drop self's */
    PyObject *r = PyObject_CallMethodNoArgs(transport, name);
    Py_DECREF(transport);
    return r;
}

int
aior_transport_closing(ProtocolObject *self)
{
    if (self->transport == NULL) {
        return 1;
    }
    PyObject *r = aior_transport_call(self, self->st->str_is_closing);
    if (r == NULL) {
        return -1;
    }
    int closing = PyObject_IsTrue(r);
    Py_DECREF(r);
    return closing;
}

/* The queued output is gone (out of memory while resizing it): the waiters
 * of those commands would take the replies of the commands sent after
 * them. Close and fail them all, with the MemoryError set now as the cause;
 * the caller gets the same ConnectionClosedError. */
static void
out_lost(ProtocolObject *self)
{
    PyObject *cause = aior_fetch_exception();
    self->out_len = self->out_cap = 0; /* self->out was freed by the resize */
    aior_close_with(self, self->st->ConnectionClosedError,
                    "Connection closed: out of memory while queueing commands", cause);
    PyObject *exc = self->close_msg != NULL
                        ? PyObject_CallOneArg(self->st->ConnectionClosedError, self->close_msg)
                        : NULL;
    if (exc == NULL) {
        Py_XDECREF(cause);
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        return;
    }
    if (cause != NULL) {
        PyException_SetCause(exc, cause); /* steals */
    }
    aior_restore_exception(exc);
}

/* Room for n more bytes in the output buffer: where to write them, or NULL
 * with an exception set (if what was queued is lost, the connection is
 * closed: see out_lost). */
char *
aior_out_reserve(ProtocolObject *self, size_t n)
{
    if (self->out == NULL) {
        size_t cap = n > OUT_INITIAL_CAP ? n : OUT_INITIAL_CAP;
        self->out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
        if (self->out == NULL) {
            return NULL;
        }
        self->out_cap = cap;
        self->out_len = 0;
    }
    else if (self->out_cap - self->out_len < n) {
        size_t cap = self->out_cap * 2;
        if (cap < self->out_len + n) {
            cap = self->out_len + n;
        }
        if (cap > PY_SSIZE_T_MAX) {
            PyErr_NoMemory();
            return NULL;
        }
        /* we hold the only reference: resizing in place is allowed */
        if (aior_bytes_resize(&self->out, (Py_ssize_t)cap) < 0) {
            if (self->out_len > 0) {
                out_lost(self);
            }
            self->out_len = self->out_cap = 0;
            return NULL;
        }
        self->out_cap = cap;
    }
    return PyBytes_AS_STRING(self->out) + self->out_len;
}

/* Everything queued as a bytes object of its own, the output buffer left
 * empty (a fresh object each time: the transport may keep a view of it).
 * New reference; NULL with an exception set, or NULL and none if nothing
 * is queued. */
static PyObject *
take_out(ProtocolObject *self)
{
    if (self->out == NULL || self->out_len == 0) {
        return NULL;
    }
    PyObject *data = self->out;
    self->out = NULL;
    if (self->out_len < self->out_cap && aior_bytes_resize(&data, (Py_ssize_t)self->out_len) < 0) {
        out_lost(self);
        return NULL;
    }
    self->out_len = self->out_cap = 0;
    return data;
}

/* Hand everything queued to the transport in one write. */
static int
flush(ProtocolObject *self)
{
    if (self->state != STATE_OPEN || self->paused) {
        return 0;
    }
    PyObject *data = take_out(self);
    if (data == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    PyObject *r = PyObject_CallMethodOneArg(self->transport, self->st->str_write, data);
    Py_DECREF(data);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

static PyObject *
Protocol_flush(ProtocolObject *self, PyObject *Py_UNUSED(ignored))
{
    self->flush_scheduled = 0;
    if (flush(self) < 0) {
        PyObject *exc = aior_fetch_exception();
        aior_close_with(self, self->st->ConnectionClosedError,
                   "Connection lost: writing to the transport failed", exc);
        Py_XDECREF(exc);
    }
    Py_RETURN_NONE;
}

/* The callback call_soon() gets: made when a flush is scheduled, not kept
 * (a bound method stored in the object would be a reference cycle, and
 * every connection would wait for the garbage collector). */
static PyMethodDef flush_def = {"_flush", (PyCFunction)Protocol_flush, METH_NOARGS, NULL};

/* ---------------------------------------------------------------- execute */

static int
command_is(const aior_arg *a, const char *name)
{
    size_t n = strlen(name);
    if ((size_t)a->len != n) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = a->ptr[i];
        if (c >= 'a' && c <= 'z') {
            c = (char)(c - 'a' + 'A');
        }
        if (c != name[i]) {
            return 0;
        }
    }
    return 1;
}

static int
command_kind(const aior_arg *a)
{
    switch (a->len) {
    case 4:
        if (command_is(a, "PING") || command_is(a, "QUIT")) {
            return KIND_PUBSUB_OK;
        }
        return command_is(a, "EXEC") ? KIND_EXEC : KIND_PLAIN;
    case 5:
        if (command_is(a, "RESET")) {
            return KIND_PUBSUB_OK;
        }
        return command_is(a, "MULTI") ? KIND_MULTI : KIND_PLAIN;
    case 6:
        return command_is(a, "SELECT") ? KIND_SELECT : KIND_PLAIN;
    case 7:
        return command_is(a, "DISCARD") ? KIND_DISCARD : KIND_PLAIN;
    case 9:
        return command_is(a, "SUBSCRIBE") ? KIND_PUBSUB : KIND_PLAIN;
    case 10:
        return command_is(a, "PSUBSCRIBE") ? KIND_PUBSUB : KIND_PLAIN;
    case 11:
        return command_is(a, "UNSUBSCRIBE") ? KIND_PUBSUB : KIND_PLAIN;
    case 12:
        return command_is(a, "PUNSUBSCRIBE") ? KIND_PUBSUB : KIND_PLAIN;
    default:
        return KIND_PLAIN;
    }
}

int
aior_in_pubsub_mode(const ProtocolObject *self)
{
    return self->in_pubsub > 0 || self->acks_pending > 0;
}

static PyObject *
raise_closed(ProtocolObject *self)
{
    if (self->state == STATE_NEW) {
        PyErr_SetString(self->st->ConnectionClosedError, "Connection is not connected yet");
        return NULL;
    }
    if (self->close_msg != NULL) {
        PyErr_SetObject(self->st->ConnectionClosedError, self->close_msg);
        return NULL;
    }
    PyErr_SetString(self->st->ConnectionClosedError, "Connection closed");
    return NULL;
}

PyDoc_STRVAR(Protocol_execute__doc__,
"execute($self, command, *args, encoding=<connection's encoding>, convert=None)\n--\n\n"
"Queue a command and return a future of its reply. Commands queued during\n"
"one loop iteration are written together. encoding=None returns raw bytes;\n"
"convert, if given, is called with a non-error reply and its result (or\n"
"exception) becomes the future's.");

/* Append what the output buffer holds to parts (nothing if it is empty). */
static int
append_out(ProtocolObject *self, PyObject *parts)
{
    PyObject *data = take_out(self);
    if (data == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    int r = PyList_Append(parts, data);
    Py_DECREF(data);
    return r;
}

/* What the output buffer holds, then the big value itself: appended to
 * parts (for one writelines() call), or without parts written now. */
static int
hand_over(ProtocolObject *self, PyObject *parts, PyObject *value)
{
    if (parts != NULL) {
        return append_out(self, parts) < 0 ? -1 : PyList_Append(parts, value);
    }
    if (flush(self) < 0) {
        return -1;
    }
    PyObject *r = PyObject_CallMethodOneArg(self->transport, self->st->str_write, value);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* asyncio's socket transport (3.12.0-3.12.8, 3.13.0-3.13.1) does not pause
 * its protocol from writelines() (CPython gh-127655), only from write():
 * without this a writer that outruns the peer is never paused and drain()
 * never waits. Ask that transport (by exact type: TLS and uvloop's pause by
 * themselves) to check, as its write() does; where it already did, nothing
 * happens. 0, or -1 with an exception set. */
static int
writelines_pause_check(ProtocolObject *self)
{
    if (self->paused || self->state != STATE_OPEN || self->transport == NULL ||
        (PyObject *)Py_TYPE(self->transport) != self->st->SelectorSocketTransport) {
        return 0;
    }
    PyObject *r = aior_transport_call(self, self->st->str_maybe_pause_protocol);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* Write a command with big bytes arguments (AIOR_BIG_ARG or more): each is
 * handed to the transport as it is (bytes are immutable, and a socket that
 * takes it at once means no copy at all), the rest goes through the output
 * buffer, flushed before each, so the order on the wire is kept. While
 * writing is paused the output buffer would be overtaken: then the argument
 * is copied like any other. 0, or -1 with an exception set.
 *
 * On 3.11 the standard library's socket transport gets it in one sendmsg()
 * when it would write at once (sendmsg.c), else in pieces it buffers. Any
 * other transport (uvloop's, asyncio's from 3.12) gets all the pieces, the
 * queued commands before them and the tail after, in one writelines()
 * call: one writev()/sendmsg(), where a write() per piece was a send each,
 * and the server wakes for each (~0.2 ms more per 1 MiB SET on loopback). */
static int
write_scattered(ProtocolObject *self, const aior_cmd *cmd)
{
    int direct = aior_send_direct(self, cmd); /* in one sendmsg() if possible */
    if (direct != 0) {
        return direct < 0 ? -1 : 0;
    }
    /* the pieces for writelines(), or NULL: write() each. Not to a closing
     * transport: the socket transport's writelines() (3.12, 3.13) would
     * still queue them, and watch a socket about to be closed. */
    PyObject *parts = NULL;
    if (self->sock_fd < 0 && !self->paused && self->state == STATE_OPEN) {
        int closing = aior_transport_closing(self);
        if (closing < 0) {
            return -1;
        }
        if (!closing && self->state == STATE_OPEN && !self->paused) { /* that was Python */
            parts = PyList_New(0);
            if (parts == NULL) {
                return -1;
            }
        }
    }
    int rc = -1;
    size_t small = cmd->size - cmd->big_bytes;
    char *dst = aior_out_reserve(self, small);
    if (dst == NULL) {
        goto done;
    }
    size_t w = aior_cmd_write_head(cmd, dst);
    for (Py_ssize_t i = 0; i < cmd->n; i++) {
        const aior_arg *a = &cmd->items[i];
        /* with parts, nothing calls out until the end: the state holds */
        int copy = parts == NULL && (self->paused || self->state != STATE_OPEN);
        if (!aior_arg_is_big(a) || copy) {
            if (aior_arg_is_big(a)) { /* copied after all: make room for it */
                self->out_len += w;
                w = 0;
                dst = aior_out_reserve(self, small + (size_t)a->len + 2);
                if (dst == NULL) {
                    goto done;
                }
            }
            w += aior_arg_write(a, dst + w, 1);
            continue;
        }
        w += aior_arg_write(a, dst + w, 0);
        self->out_len += w;
        if (hand_over(self, parts, a->bytes) < 0) {
            goto done;
        }
        dst = aior_out_reserve(self, small);
        if (dst == NULL) {
            goto done;
        }
        w = 0;
        dst[w++] = '\r';
        dst[w++] = '\n';
    }
    self->out_len += w; /* without parts, the tail leaves with the next flush, as usual */
    if (parts != NULL) {
        if (append_out(self, parts) < 0) {
            goto done;
        }
        PyObject *r = PyObject_CallMethodOneArg(self->transport, self->st->str_writelines, parts);
        if (r == NULL) {
            goto done;
        }
        Py_DECREF(r);
        if (writelines_pause_check(self) < 0) {
            goto done;
        }
    }
    rc = 0;
done:
    Py_XDECREF(parts);
    return rc;
}

/* Encode one command and queue n_replies waiters for it: a future per
 * reply, returned as it is (n_replies == 1) or as a tuple of them. given:
 * the future to use instead of creating one (_execute_batch's placeholder,
 * n_replies 1). */
static PyObject *
queue_command(ProtocolObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *encoding,
              PyObject *convert, Py_ssize_t n_replies, int forced_kind, PyObject *given)
{
    aior_state *st = self->st;
    if (self->state != STATE_OPEN) {
        return raise_closed(self);
    }
    aior_cmd cmd;
    if (aior_cmd_prepare(&cmd, args, nargs) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    int kind = forced_kind >= 0 ? forced_kind : command_kind(&cmd.items[0]);
    if (kind == KIND_PUBSUB && given != NULL) {
        PyErr_SetString(st->RedisError,
                        "Pub/Sub commands cannot be used in a pipeline or transaction");
        goto error;
    }
    if (kind == KIND_PUBSUB) {
        /* (P)(UN)SUBSCRIBE need Channel objects: the Python layer makes them */
        aior_cmd_release(&cmd);
        /* args[-1] is ours to borrow for the call (vectorcall's offset rule) */
        PyObject **slot = (PyObject **)(args - 1);
        PyObject *saved = *slot;
        *slot = (PyObject *)self;
        PyObject *r = PyObject_VectorcallMethod(st->str_execute_pubsub, slot, (size_t)(nargs + 1),
                                                NULL);
        *slot = saved;
        return r;
    }
    if (aior_in_pubsub_mode(self) && kind != KIND_PUBSUB_OK && kind != KIND_PUBSUB_ACK) {
        PyErr_SetString(st->RedisError,
                        "Connection in SUBSCRIBE mode: only (P)(UN)SUBSCRIBE, PING and QUIT "
                        "are allowed");
        goto error;
    }
    /* big bytes arguments are not copied into the output buffer */
    size_t copied = cmd.size - cmd.big_bytes;
    char *dst = aior_out_reserve(self, copied);
    if (dst == NULL || ring_reserve(self, (size_t)n_replies) < 0) {
        goto error;
    }
    result = PyTuple_New(n_replies);
    if (result == NULL) {
        goto error;
    }
    for (Py_ssize_t i = 0; i < n_replies; i++) {
        PyObject *fut = given ? Py_NewRef(given) : PyObject_CallNoArgs(self->create_future);
        if (fut == NULL) {
            goto error;
        }
        PyTuple_SET_ITEM(result, i, fut); /* steals */
    }
    /* An idle connection writes at once (one command in flight: no loop
     * iteration lost to the flush); otherwise, or while a batch is being
     * queued (corked), one flush at the next iteration sends all queued. */
    int write_now = self->count == 0 && self->corked == 0;
    if (!write_now && !self->flush_scheduled && !self->paused) {
        PyObject *cb = PyCFunction_New(&flush_def, (PyObject *)self);
        PyObject *handle = cb ? PyObject_CallOneArg(self->call_soon, cb) : NULL;
        Py_XDECREF(cb);
        if (handle == NULL) {
            goto error;
        }
        Py_DECREF(handle);
        self->flush_scheduled = 1;
    }
    /* create_future and call_soon are Python: the connection may have closed
     * meanwhile, or more may have been queued; check and reserve again. */
    if (self->state != STATE_OPEN) {
        raise_closed(self);
        goto error;
    }
    dst = aior_out_reserve(self, copied);
    if (dst == NULL || ring_reserve(self, (size_t)n_replies) < 0) {
        goto error;
    }
    waiter w = {NULL, Py_XNewRef(encoding), NULL, Py_XNewRef(convert), kind};
    /* whether a SELECT runs now or inside a transaction is known from the
     * replies (track_state) */
    switch (w.kind) {
    case KIND_SELECT:
        if (nargs >= 2) {
            w.arg = Py_NewRef(args[1]);
        }
        break;
    case KIND_PUBSUB_ACK:
        self->acks_pending += n_replies;
        break;
    default:
        break;
    }
    if (cmd.big_bytes == 0) {
        aior_cmd_write(&cmd, dst);
        self->out_len += cmd.size;
    }
    for (Py_ssize_t i = 0; i < n_replies; i++) {
        waiter wi = w;
        wi.fut = Py_NewRef(PyTuple_GET_ITEM(result, i));
        if (i > 0) { /* every waiter owns its references */
            Py_XINCREF(wi.encoding);
            Py_XINCREF(wi.arg);
            Py_XINCREF(wi.convert);
        }
        ring_push(self, wi);
    }
    if (cmd.big_bytes && write_scattered(self, &cmd) < 0) {
        /* part of the command may be on the wire: the stream is lost */
        PyObject *exc = aior_fetch_exception();
        aior_close_with(self, st->ConnectionClosedError,
                        "Connection lost: writing to the transport failed", exc);
        Py_XDECREF(exc);
    }
    aior_cmd_release(&cmd);
    if (write_now && !self->flush_scheduled) {
        Py_DECREF(Protocol_flush(self, NULL)); /* on failure its waiters get the error */
    }
    if (n_replies == 1) {
        PyObject *fut = Py_NewRef(PyTuple_GET_ITEM(result, 0));
        Py_DECREF(result);
        return fut;
    }
    return result;

error:
    aior_cmd_release(&cmd);
    Py_XDECREF(result);
    return NULL;
}

/* Parse execute()'s keywords: encoding (str, None or NOTSET) and convert. */
static int
parse_execute_kwargs(ProtocolObject *self, PyObject *const *kwvalues, PyObject *kwnames,
                     PyObject **encoding, PyObject **convert)
{
    aior_state *st = self->st;
    *encoding = self->encoding;
    *convert = NULL;
    if (kwnames == NULL) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        PyObject *value = kwvalues[i];
        if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "convert") == 0) {
            if (value != Py_None && !PyCallable_Check(value)) {
                PyErr_SetString(PyExc_TypeError, "convert must be callable or None");
                return -1;
            }
            *convert = value == Py_None ? NULL : value;
            continue;
        }
        if (!PyUnicode_Check(name) || PyUnicode_CompareWithASCIIString(name, "encoding") != 0) {
            PyErr_Format(PyExc_TypeError, "execute() got an unexpected keyword argument '%S'",
                         name);
            return -1;
        }
        if (value == Py_None) {
            *encoding = NULL;
        }
        else if (value == st->notset) {
            *encoding = self->encoding;
        }
        else if (PyUnicode_Check(value)) {
            *encoding = value;
        }
        else {
            PyErr_Format(PyExc_TypeError, "encoding must be a str or None, not %.100s",
                         Py_TYPE(value)->tp_name);
            return -1;
        }
    }
    return 0;
}

static int
check_command(PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "execute() missing the command");
        return -1;
    }
    PyObject *command = args[0];
    if (!(PyUnicode_CheckExact(command) || PyBytes_CheckExact(command) ||
          PyByteArray_CheckExact(command))) {
        PyErr_Format(PyExc_TypeError, "command must be str, bytes or bytearray, not %.100s",
                     Py_TYPE(command)->tp_name);
        return -1;
    }
    return 0;
}

static PyObject *
Protocol_execute(ProtocolObject *self, PyObject *const *args, Py_ssize_t nargsf,
                 PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *encoding, *convert;
    if (parse_execute_kwargs(self, args + nargs, kwnames, &encoding, &convert) < 0 ||
        check_command(args, nargs) < 0) {
        return NULL;
    }
    /* queue_command may pass args - 1 (self's slot) on to execute_pubsub */
    if (!(nargsf & PY_VECTORCALL_ARGUMENTS_OFFSET)) {
        PyObject *small[9];
        PyObject **copy = nargs < 8 ? small : PyMem_Malloc((size_t)(nargs + 1) * sizeof(PyObject *));
        if (copy == NULL) {
            return PyErr_NoMemory();
        }
        copy[0] = (PyObject *)self;
        memcpy(copy + 1, args, (size_t)nargs * sizeof(PyObject *));
        PyObject *r = queue_command(self, copy + 1, nargs, encoding, convert, 1, -1, NULL);
        if (copy != small) {
            PyMem_Free(copy);
        }
        return r;
    }
    return queue_command(self, args, nargs, encoding, convert, 1, -1, NULL);
}

PyDoc_STRVAR(Protocol_execute_batch__doc__,
"_execute_batch($self, commands, /)\n--\n\n"
"Queue a pipeline: commands is a list of PipelineFutures, each holding its\n"
"command (moved out here). Each reply resolves its future directly; all of\n"
"it leaves in one write. A command that cannot be queued fails its future.\n"
"Returns the future of the last command queued, or None.");

static PyObject *
Protocol_execute_batch(ProtocolObject *self, PyObject *commands)
{
    aior_state *st = self->st;
    if (!PyList_Check(commands)) {
        PyErr_SetString(PyExc_TypeError, "_execute_batch() expects a list");
        return NULL;
    }
    PyObject *last = Py_NewRef(Py_None);
    PyObject *small[AIOR_SMALL_ARGS + 2], **argv = NULL;
    Py_ssize_t argv_cap = 0;
    self->corked++;
    /* the list may change under us (Python code runs): index it afresh */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(commands); i++) {
        PyObject *fut = Py_NewRef(PyList_GET_ITEM(commands, i));
        PyObject *cmd[4], *r = NULL;
        if (aior_future_take_command(st, fut, cmd) < 0) {
            Py_DECREF(fut);
            goto fail;
        }
        PyObject *args = cmd[1], *encoding = cmd[2], *convert = cmd[3];
        Py_ssize_t nargs = 1 + PyTuple_GET_SIZE(args);
        if (nargs + 1 > argv_cap) { /* one slot before: execute_pubsub's self */
            if (argv != small && argv != NULL) {
                PyMem_Free(argv);
            }
            argv_cap = nargs + 1 <= (Py_ssize_t)Py_ARRAY_LENGTH(small) ? (Py_ssize_t)Py_ARRAY_LENGTH(small)
                                                                       : nargs + 1;
            argv = argv_cap == (Py_ssize_t)Py_ARRAY_LENGTH(small)
                       ? small
                       : PyMem_Malloc((size_t)argv_cap * sizeof(PyObject *));
            if (argv == NULL) {
                argv_cap = 0;
                PyErr_NoMemory();
                Py_DECREF(fut);
                for (int k = 0; k < 4; k++) {
                    Py_DECREF(cmd[k]);
                }
                goto fail;
            }
        }
        argv[0] = (PyObject *)self;
        argv[1] = cmd[0];
        for (Py_ssize_t k = 1; k < nargs; k++) {
            argv[1 + k] = PyTuple_GET_ITEM(args, k - 1);
        }
        if (encoding == st->notset) {
            encoding = self->encoding;
        }
        else if (encoding == Py_None) {
            encoding = NULL;
        }
        else if (!PyUnicode_Check(encoding)) {
            PyErr_Format(PyExc_TypeError, "encoding must be a str or None, not %.100s",
                         Py_TYPE(encoding)->tp_name);
        }
        if (convert != Py_None && !PyCallable_Check(convert)) {
            PyErr_SetString(PyExc_TypeError, "convert must be callable or None");
        }
        if (!PyErr_Occurred() && check_command(argv + 1, nargs) == 0) {
            r = queue_command(self, argv + 1, nargs, encoding, convert == Py_None ? NULL : convert,
                              1, -1, fut);
        }
        if (r != NULL) {
            Py_SETREF(last, r);
        }
        else { /* this command is not sent: its future says why */
            PyObject *exc = aior_fetch_exception();
            aior_resolve(self, fut, st->str_set_exception, exc);
            Py_XDECREF(exc);
        }
        Py_DECREF(fut);
        for (int k = 0; k < 4; k++) {
            Py_DECREF(cmd[k]);
        }
    }
    self->corked--;
    if (argv != small) {
        PyMem_Free(argv);
    }
    return last;
fail:
    self->corked--;
    if (argv != small) {
        PyMem_Free(argv);
    }
    Py_DECREF(last);
    return NULL;
}

PyDoc_STRVAR(Protocol_execute_pubsub_acks__doc__,
"_execute_pubsub_acks($self, n_replies, command, *names)\n--\n\n"
"Send a (P)(UN)SUBSCRIBE and return a tuple of n_replies futures, one per\n"
"acknowledgement. Used by RedisConnection.execute_pubsub.");

static PyObject *
Protocol_execute_pubsub_acks(ProtocolObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 2) {
        PyErr_SetString(PyExc_TypeError, "_execute_pubsub_acks(n_replies, command, *names)");
        return NULL;
    }
    Py_ssize_t n = PyLong_AsSsize_t(args[0]);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (n < 1) {
        PyErr_SetString(PyExc_ValueError, "n_replies must be at least 1");
        return NULL;
    }
    if (check_command(args + 1, nargs - 1) < 0) {
        return NULL;
    }
    PyObject *result = queue_command(self, args + 1, nargs - 1, NULL, NULL, n, KIND_PUBSUB_ACK, NULL);
    if (result != NULL && n == 1) { /* always a tuple here */
        PyObject *tuple = PyTuple_Pack(1, result);
        Py_DECREF(result);
        return tuple;
    }
    return result;
}

/* ------------------------------------------------------------ read path */

/* A reply that is OK (bytes or str, as the command's encoding made it). */
static int
is_ok(PyObject *reply)
{
    if (PyBytes_Check(reply)) {
        return PyBytes_GET_SIZE(reply) == 2 && memcmp(PyBytes_AS_STRING(reply), "OK", 2) == 0;
    }
    return PyUnicode_Check(reply) && PyUnicode_CompareWithASCIIString(reply, "OK") == 0;
}

static void
set_db(ProtocolObject *self, PyObject *arg)
{
    /* SELECT b"2" leaves db == 2: keep the index as an int */
    PyObject *db = PyNumber_Long(arg);
    if (db == NULL) {
        PyErr_Clear();
        db = Py_NewRef(arg);
    }
    Py_XSETREF(self->db, db);
}

/* EXEC ran the transaction: each SELECT queued in it switched db if its
 * own entry in EXEC's array is OK (the last such one wins). */
static void
apply_tx_selects(ProtocolObject *self, PyObject *reply)
{
    PyObject *selects = self->tx_selects;
    if (selects == NULL || !PyList_Check(reply)) {
        return;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(selects); i++) {
        PyObject *entry = PyList_GET_ITEM(selects, i); /* (place, db): ours alone */
        Py_ssize_t place = PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 0));
        if (place >= 0 && place < PyList_GET_SIZE(reply) &&
            is_ok(PyList_GET_ITEM(reply, place))) {
            set_db(self, PyTuple_GET_ITEM(entry, 1));
        }
    }
}

/* What a reply to SELECT, MULTI, EXEC or DISCARD does to the state, and
 * inside a transaction where each QUEUED reply's command stands in EXEC's
 * array. failed: the server's reply is an error; reply is NULL when it could
 * not be built. Runs no Python code (set_db's int() of an int or bytes is
 * C), but closes the connection when its db cannot be known. */
static void
track_state(ProtocolObject *self, const waiter *w, int failed, PyObject *reply)
{
    switch (w->kind) {
    case KIND_PLAIN:
    case KIND_PUBSUB_OK:
        if (self->in_transaction && !failed) {
            self->tx_queued++; /* QUEUED */
        }
        break;
    case KIND_SELECT:
        if (failed || w->arg == NULL) {
            break;
        }
        if (!self->in_transaction) {
            set_db(self, w->arg);
            break;
        }
        /* QUEUED: it runs (or fails) in EXEC, at this place */
        PyObject *entry = Py_BuildValue("(nO)", self->tx_queued++, w->arg);
        if (entry != NULL && self->tx_selects == NULL) {
            self->tx_selects = PyList_New(0);
        }
        if (entry == NULL || self->tx_selects == NULL ||
            PyList_Append(self->tx_selects, entry) < 0) {
            /* out of memory: the db EXEC leaves us on could not be known */
            PyObject *exc = aior_fetch_exception();
            aior_close_with(self, self->st->ConnectionClosedError,
                            "Connection closed: out of memory while tracking its db", exc);
            Py_XDECREF(exc);
        }
        Py_XDECREF(entry);
        break;
    case KIND_EXEC:
        self->in_transaction = 0; /* even EXECABORT ends the transaction */
        /* an EXEC aborted by WATCH replies None: its SELECTs did not run */
        if (!failed && reply == NULL && self->tx_selects != NULL) {
            /* it ran, but which of its SELECTs did is in the array we
             * could not build: the db is unknown */
            aior_close_with(self, self->st->ConnectionClosedError,
                            "Connection closed: the db a transaction left it on is unknown "
                            "(its EXEC reply could not be read)",
                            NULL);
        }
        else if (!failed) {
            apply_tx_selects(self, reply);
        }
        Py_CLEAR(self->tx_selects);
        break;
    case KIND_MULTI:
        if (!failed) { /* a nested MULTI is an error: the transaction goes on */
            self->in_transaction = 1;
            self->tx_queued = 0;
            Py_CLEAR(self->tx_selects);
        }
        break;
    case KIND_DISCARD:
        self->in_transaction = 0;
        Py_CLEAR(self->tx_selects);
        break;
    case KIND_PUBSUB_ACK:
        self->acks_pending--;
        break;
    default:
        break;
    }
}

void
aior_on_reply(ProtocolObject *self, waiter *w, char type, PyObject *reply)
{
    aior_state *st = self->st;
    int failed = type == '-' || type == '!';
    if (reply == NULL) {
        /* building this reply failed (a codec error, out of memory): its
         * caller gets the exception, kept aside while the state is tracked
         * from what the server did (the type), not from the missing object */
        PyObject *exc = aior_fetch_exception();
        track_state(self, w, failed, NULL);
        if (exc == NULL) {
            PyErr_SetString(PyExc_SystemError, "aioredis: a reply failed without an exception");
            exc = aior_fetch_exception();
        }
        aior_resolve(self, w->fut, st->str_set_exception, exc);
        Py_XDECREF(exc);
        return;
    }
    track_state(self, w, failed, reply);
    if (failed) {
        if (PyExceptionInstance_Check(reply)) {
            aior_resolve(self, w->fut, st->str_set_exception, reply);
            return;
        }
        /* an error reply that makes no exception (a null blob error, !-1):
         * no reply for anyone, the stream cannot be trusted */
        static const char msg[] = "Protocol error: an error reply without an error";
        PyErr_SetString(st->ProtocolError, msg);
        PyObject *exc = aior_fetch_exception();
        if (exc != NULL) {
            aior_resolve(self, w->fut, st->str_set_exception, exc);
            Py_DECREF(exc);
        }
        else {
            PyErr_WriteUnraisable((PyObject *)self);
        }
        aior_close_with(self, st->ProtocolError, msg, NULL);
        return;
    }
    if (w->kind == KIND_PUBSUB_ACK) {
        aior_on_pubsub_ack(self, reply);
    }
    if (w->convert == NULL) {
        aior_resolve(self, w->fut, st->str_set_result, reply);
        return;
    }
    PyObject *converted = PyObject_CallOneArg(w->convert, reply);
    if (converted == NULL) {
        PyObject *exc = aior_fetch_exception();
        aior_resolve(self, w->fut, st->str_set_exception, exc);
        Py_XDECREF(exc);
        return;
    }
    aior_resolve(self, w->fut, st->str_set_result, converted);
    Py_DECREF(converted);
}

void
aior_protocol_failed(ProtocolObject *self)
{
    aior_close_with(self, self->st->ProtocolError,
               self->parser.errmsg, NULL);
}

/* A complete push: built as bytes (a scanned one now), handed to the push
 * dispatcher. One that cannot be built closes the connection, since
 * whether a waiter was owed it cannot be told. */
static void
take_push(ProtocolObject *self, int r, PyObject *reply, resp_build_ctx *ctx, size_t end)
{
    if (r == 2) {
        ctx->encoding = NULL;
        ctx->utf8 = ctx->flat_map = 0;
        reply = resp_build(&self->parser, ctx, end);
    }
    resp_consume(&self->parser, end);
    if (reply == NULL) {
        PyObject *exc = aior_fetch_exception();
        aior_close_with(self, self->st->ConnectionClosedError,
                        "Connection closed: a push could not be read", exc);
        Py_XDECREF(exc);
        return;
    }
    aior_on_push(self, reply);
    if (r == 2) {
        Py_DECREF(reply);
    }
}

/* Parse and dispatch every complete reply in the buffer.
 *
 * What a reply is, is fixed when its first byte is parsed (see
 * docs/internals.rst, "Pub/Sub routing"): a push ('>') is built as bytes
 * for the push dispatcher; while subscribed (the server acknowledged a
 * subscription) a reply is scanned, and once whole it is a message or the
 * head waiter's; otherwise it is the head waiter's, built while it arrives
 * as that waiter asked. The parser's mode (build or scan) and the reply's
 * first byte, which stays buffered until the reply is complete, carry the
 * decision across reads: nothing queued meanwhile changes it. */
static void
process_replies(ProtocolObject *self)
{
    aior_state *st = self->st;
    resp_parser *p = &self->parser;
    while (self->state == STATE_OPEN) {
        size_t end;
        PyObject *reply = NULL;
        resp_build_ctx ctx = {st->ReplyError, NULL, NULL, 0, 0, st->ok_bytes};
        char first = p->start < p->end ? p->data[p->start] : '\0';
        if (first != '\0' && first != '>' && first != '|' && self->count == 0 &&
            self->in_pubsub <= 0) {
            /* nothing is waiting and nothing is subscribed: a reply begun
             * now is nobody's, and must not become the reply of a command
             * sent before it ends (waiters are queued before their command
             * leaves, and only a whole reply pops one) */
            PyOS_snprintf(p->errmsg, sizeof(p->errmsg),
                          "Protocol error: got a reply with no command pending");
            aior_protocol_failed(self);
            return;
        }
        /* looked at only when a reply begins; '|': attributes first, the
         * type that decides comes after them */
        int build = first == '>' || (self->in_pubsub <= 0 && first != '|');
        PyObject *encoding = NULL; /* held for the parse: closing frees the waiter's */
        if (first != '>' && self->count > 0) {
            const waiter *head = &self->ring[self->head];
            encoding = Py_XNewRef(head->encoding);
            if (resp_ctx_set_encoding(&ctx, encoding, NULL) < 0) {
                PyErr_Clear(); /* scan it; building it later raises this again for its caller */
                build = 0;
            }
            ctx.flat_map = head->convert == st->pairs_to_dict;
        }
        int r = resp_parse(p, &ctx, build, &reply, &end);
        Py_XDECREF(encoding);
        if (self->state != STATE_OPEN) {
            /* Python code run while building closed the connection: its
             * waiters have their error, the rest is nobody's */
            Py_XDECREF(reply);
            PyErr_Clear();
            return;
        }
        if (r == 0) {
            r = aior_big_start(self); /* 1: a large reply has begun, read into its object */
            if (r >= 0) {
                return;
            }
        }
        if (r == -2) {
            PyObject *exc = aior_fetch_exception();
            aior_close_with(self, st->ConnectionClosedError,
                       "Connection closed: out of memory while reading", exc);
            Py_XDECREF(exc);
            return;
        }
        if (r < 0) {
            aior_protocol_failed(self);
            return;
        }
        char type = resp_reply_type(p);
        if (type == '>') {
            take_push(self, r, reply, &ctx, end);
            Py_XDECREF(reply);
            continue;
        }
        if (r == 2 && self->in_pubsub > 0 && aior_is_message(p, end)) {
            ctx.encoding = NULL; /* messages are bytes */
            ctx.utf8 = ctx.flat_map = 0;
            reply = resp_build(p, &ctx, end);
            resp_consume(p, end);
            (void)aior_route_message(self, reply); /* odd items: not a message, nobody's */
            Py_XDECREF(reply);
            continue;
        }
        PyObject *exc = r == 1 && reply == NULL ? aior_fetch_exception() : NULL;
        if (self->count == 0) {
            Py_XDECREF(reply);
            Py_XDECREF(exc);
            PyOS_snprintf(p->errmsg, sizeof(p->errmsg),
                          "Protocol error: got a reply with no command pending");
            aior_protocol_failed(self);
            return;
        }
        waiter w = aior_ring_pop(self);
        if (r == 2) {
            ctx.encoding = NULL;
            ctx.utf8 = 0;
            ctx.flat_map = w.convert == st->pairs_to_dict;
            if (resp_ctx_set_encoding(&ctx, w.encoding, NULL) == 0) {
                reply = resp_build(p, &ctx, end);
            }
            if (self->state != STATE_OPEN) { /* its codec closed the connection */
                Py_CLEAR(reply);
                PyErr_Clear();
                raise_closed(self);
            }
        }
        else if (exc != NULL) {
            aior_restore_exception(exc); /* aior_on_reply takes it for the caller */
        }
        resp_consume(p, end);
        aior_on_reply(self, &w, type, reply);
        Py_XDECREF(reply);
        aior_waiter_release(&w);
    }
}

/* BufferedProtocol: the transport reads straight into the parser's buffer,
 * so a reply's bytes are copied once (into its bytes object) on their way
 * from the socket to the caller. Views handed out are counted: a block a
 * live view points into is never freed (a traceback can keep the
 * transport's view alive long after the read). */

static PyObject *
Protocol_get_buffer(ProtocolObject *self, PyObject *sizehint)
{
    Py_ssize_t hint = PyLong_AsSsize_t(sizehint);
    if (hint == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (self->parser.busy || self->in_data_received) {
        PyErr_SetString(PyExc_BufferError, "get_buffer() while the read buffer is in use");
        return NULL;
    }
    if (self->big != NULL) {
        if (aior_big_reserve(self) < 0) {
            return NULL;
        }
        return PyMemoryView_FromObject((PyObject *)self); /* big's free tail */
    }
    size_t want = hint > READ_CHUNK ? (size_t)hint : READ_CHUNK;
    if (resp_reserve(&self->parser, want) == NULL) {
        return NULL;
    }
    PyObject *view = PyMemoryView_FromObject((PyObject *)self); /* Protocol_getbuffer */
    if (view != NULL) {
        self->parser.lent = 1; /* kept until buffer_updated(), even if the view goes first */
    }
    return view;
}

static int
Protocol_getbuffer(ProtocolObject *self, Py_buffer *view, int flags)
{
    resp_parser *p = &self->parser;
    if (self->big != NULL) {
        size_t size = (size_t)PyBytes_GET_SIZE(self->big);
        if (PyBuffer_FillInfo(view, (PyObject *)self,
                              PyBytes_AS_STRING(self->big) + self->big_filled,
                              (Py_ssize_t)(size - self->big_filled), 0, flags) < 0) {
            return -1;
        }
        view->internal = (void *)self->big; /* marks a view into big */
        self->big_exports++;
        return 0;
    }
    if (p->data == NULL || p->cap == p->end) {
        PyErr_SetString(PyExc_BufferError, "no read buffer to export (use get_buffer())");
        return -1;
    }
    if (PyBuffer_FillInfo(view, (PyObject *)self, p->data + p->end,
                          (Py_ssize_t)(p->cap - p->end), 0, flags) < 0) {
        return -1;
    }
    view->internal = NULL;
    p->exports++;
    return 0;
}

static void
Protocol_releasebuffer(ProtocolObject *self, Py_buffer *view)
{
    if (view->internal == NULL) {
        resp_release_export(&self->parser);
    }
    else if (--self->big_exports == 0) {
        Py_CLEAR(self->big_retired);
    }
}

static PyObject *
Protocol_buffer_updated(ProtocolObject *self, PyObject *nbytes)
{
    Py_ssize_t n = PyLong_AsSsize_t(nbytes);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    size_t room = self->big != NULL
                      ? (size_t)PyBytes_GET_SIZE(self->big) - self->big_filled
                      : self->parser.cap - self->parser.end;
    if (n < 0 || (size_t)n > room) {
        PyErr_SetString(PyExc_ValueError, "buffer_updated(): nbytes out of range");
        return NULL;
    }
    self->parser.lent = 0;
    if (self->state != STATE_OPEN) {
        Py_RETURN_NONE;
    }
    if (self->in_data_received) {
        PyErr_SetString(PyExc_RuntimeError, "buffer_updated() re-entered");
        return NULL;
    }
    self->in_data_received = 1;
    if (self->big != NULL) {
        self->big_filled += (size_t)n;
        if (self->big_filled == self->big_len + 2) {
            aior_big_finish(self);
        }
    }
    else {
        resp_commit(&self->parser, (size_t)n);
    }
    process_replies(self);
    self->in_data_received = 0;
    Py_RETURN_NONE;
}

static PyObject *
Protocol_data_received(ProtocolObject *self, PyObject *data)
{
    if (self->state != STATE_OPEN) {
        Py_RETURN_NONE; /* bytes after close are not for anyone */
    }
    if (self->in_data_received) {
        PyErr_SetString(PyExc_RuntimeError, "data_received() re-entered");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const char *src = view.buf;
    size_t n = (size_t)view.len;
    int r = 0;
    self->in_data_received = 1;
    /* a large reply in progress takes its bytes first; between replies the
     * parser may start another, so alternate until all is taken */
    while (n > 0 && self->state == STATE_OPEN && r == 0) {
        if (self->big != NULL) {
            size_t k = aior_big_receive(self, src, n);
            src += k;
            n -= k;
            process_replies(self);
            continue;
        }
        /* if a large reply starts in this chunk, aior_big_start() moves its
         * part of the chunk out of the parser into the reply's object */
        r = resp_feed(&self->parser, src, n);
        n = 0;
        process_replies(self);
    }
    self->in_data_received = 0;
    PyBuffer_Release(&view);
    if (r < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ------------------------------------------------------ protocol callbacks */

static PyObject *
Protocol_connection_made(ProtocolObject *self, PyObject *transport)
{
    if (self->state != STATE_NEW) {
        PyErr_SetString(PyExc_RuntimeError, "connection_made() called twice");
        return NULL;
    }
    Py_XSETREF(self->transport, Py_NewRef(transport));
    self->sock_fd = aior_socket_fd(self, transport);
    self->state = STATE_OPEN;
    Py_RETURN_NONE;
}

static PyObject *
Protocol_eof_received(ProtocolObject *self, PyObject *Py_UNUSED(ignored))
{
    Py_RETURN_NONE; /* let the transport close; connection_lost follows */
}

static PyObject *
Protocol_connection_lost(ProtocolObject *self, PyObject *exc)
{
    Py_CLEAR(self->transport); /* the transport is done: nothing to close */
    aior_close_with(self, self->st->ConnectionClosedError,
               exc == Py_None ? "Connection closed by server" : "Connection lost", exc);
    Py_RETURN_NONE;
}

static PyObject *
Protocol_pause_writing(ProtocolObject *self, PyObject *Py_UNUSED(ignored))
{
    self->paused = 1;
    Py_RETURN_NONE;
}

/* While corked (pipelines, MULTI/EXEC), commands are queued for one write
 * at the next loop iteration even on an idle connection. */
static PyObject *
Protocol_cork(ProtocolObject *self, PyObject *Py_UNUSED(ignored))
{
    self->corked++;
    Py_RETURN_NONE;
}

static PyObject *
Protocol_uncork(ProtocolObject *self, PyObject *Py_UNUSED(ignored))
{
    if (self->corked > 0) {
        self->corked--;
    }
    Py_RETURN_NONE;
}

static PyObject *
Protocol_resume_writing(ProtocolObject *self, PyObject *Py_UNUSED(ignored))
{
    self->paused = 0;
    return Protocol_flush(self, NULL);
}

PyDoc_STRVAR(Protocol_close__doc__,
"close($self, /)\n--\n\n"
"Close the connection. Pending commands fail with ConnectionForcedCloseError.");

static PyObject *
Protocol_close(ProtocolObject *self, PyObject *Py_UNUSED(ignored))
{
    aior_close_with(self, self->st->ConnectionForcedCloseError,
               "Connection closed by user", NULL);
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------- lifetime */

static int
Protocol_init(ProtocolObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"loop", "encoding", NULL};
    PyObject *loop, *encoding = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O:RedisProtocolBase", kwlist, &loop,
                                     &encoding)) {
        return -1;
    }
    if (encoding != Py_None && !PyUnicode_Check(encoding)) {
        PyErr_Format(PyExc_TypeError, "encoding must be a str or None, not %.100s",
                     Py_TYPE(encoding)->tp_name);
        return -1;
    }
    if (encoding != Py_None) {
        const char *name = PyUnicode_AsUTF8(encoding);
        PyObject *codec = name ? PyCodec_Decoder(name) : NULL; /* unknown codec: fail now */
        if (codec == NULL) {
            return -1;
        }
        Py_DECREF(codec);
    }
    PyObject *create_future = PyObject_GetAttr(loop, self->st->str_create_future);
    PyObject *call_soon = PyObject_GetAttr(loop, self->st->str_call_soon);
    if (create_future == NULL || call_soon == NULL) {
        Py_XDECREF(create_future);
        Py_XDECREF(call_soon);
        return -1;
    }
    Py_XSETREF(self->loop, Py_NewRef(loop));
    Py_XSETREF(self->create_future, create_future);
    Py_XSETREF(self->call_soon, call_soon);
    Py_XSETREF(self->encoding, encoding == Py_None ? NULL : Py_NewRef(encoding));
    return 0;
}

static PyObject *
Protocol_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    ProtocolObject *self = (ProtocolObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->st = aior_state_from_type(type);
    self->sock_fd = -1;
    resp_init(&self->parser);
    self->db = PyLong_FromLong(0);
    self->channels = PyDict_New();
    self->patterns = PyDict_New();
    if (self->db == NULL || self->channels == NULL || self->patterns == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int
Protocol_traverse(ProtocolObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->loop);
    Py_VISIT(self->create_future);
    Py_VISIT(self->call_soon);
    Py_VISIT(self->transport);
    Py_VISIT(self->sock);
    Py_VISIT(self->encoding);
    Py_VISIT(self->db);
    Py_VISIT(self->close_msg);
    Py_VISIT(self->tx_selects);
    Py_VISIT(self->push_handler);
    Py_VISIT(self->channels);
    Py_VISIT(self->patterns);
    Py_VISIT(self->big);
    Py_VISIT(self->big_retired);
    for (size_t i = 0; i < self->count; i++) {
        waiter *w = &self->ring[(self->head + i) & (self->cap - 1)];
        Py_VISIT(w->fut);
        Py_VISIT(w->encoding);
        Py_VISIT(w->arg);
        Py_VISIT(w->convert);
    }
    return 0;
}

static int
Protocol_clear(ProtocolObject *self)
{
    Py_CLEAR(self->loop);
    Py_CLEAR(self->create_future);
    Py_CLEAR(self->call_soon);
    Py_CLEAR(self->transport);
    Py_CLEAR(self->sock);
    Py_CLEAR(self->encoding);
    Py_CLEAR(self->close_msg);
    Py_CLEAR(self->tx_selects);
    Py_CLEAR(self->push_handler);
    Py_CLEAR(self->channels);
    Py_CLEAR(self->patterns);
    Py_CLEAR(self->big);
    Py_CLEAR(self->big_retired);
    while (self->count) {
        waiter w = aior_ring_pop(self);
        aior_waiter_release(&w);
    }
    return 0;
}

static void
Protocol_dealloc(ProtocolObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Protocol_clear(self);
    Py_CLEAR(self->db);
    Py_CLEAR(self->out);
    PyMem_Free(self->ring);
    resp_free(&self->parser);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* ---------------------------------------------------------------- getters */

static PyObject *
Protocol_get_db(ProtocolObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->db);
}

static PyObject *
Protocol_get_encoding(ProtocolObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->encoding ? self->encoding : Py_None);
}

static PyObject *
Protocol_get_closed(ProtocolObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->state == STATE_CLOSED);
}

static PyObject *
Protocol_get_in_transaction(ProtocolObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->in_transaction);
}

static PyObject *
Protocol_get_transport(ProtocolObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->transport ? self->transport : Py_None);
}

static PyObject *
Protocol_get_pending(ProtocolObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSize_t(self->count);
}

static PyObject *
Protocol_get_direct_sends(ProtocolObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->direct_sends);
}

static PyObject *
Protocol_get_read_buffer_size(ProtocolObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSize_t(resp_capacity(&self->parser));
}

static PyObject *
Protocol_get_writing_paused(ProtocolObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->paused);
}

static PyObject *
Protocol_get_in_pubsub(ProtocolObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->in_pubsub);
}

static PyObject *
Protocol_get_channels(ProtocolObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->channels ? self->channels : Py_None);
}

static PyObject *
Protocol_get_patterns(ProtocolObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->patterns ? self->patterns : Py_None);
}

static PyObject *
Protocol_get_push_handler(ProtocolObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->push_handler ? self->push_handler : Py_None);
}

static int
Protocol_set_push_handler(ProtocolObject *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value != NULL && value != Py_None && !PyCallable_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "push_handler must be callable or None");
        return -1;
    }
    Py_XSETREF(self->push_handler, value == NULL || value == Py_None ? NULL : Py_NewRef(value));
    return 0;
}

static PyGetSetDef Protocol_getset[] = {
    {"push_handler", (getter)Protocol_get_push_handler, (setter)Protocol_set_push_handler,
     PyDoc_STR("Called with each RESP3 push that is neither a pub/sub message nor an\n"
               "awaited acknowledgement (e.g. a CLIENT TRACKING invalidation), as a\n"
               "list (strings as bytes); None (the default) drops them."), NULL},
    {"in_pubsub", (getter)Protocol_get_in_pubsub, NULL,
     PyDoc_STR("Number of channels and patterns subscribed (read-only)."), NULL},
    {"_channels", (getter)Protocol_get_channels, NULL,
     PyDoc_STR("The dict the protocol routes channel messages through."), NULL},
    {"_patterns", (getter)Protocol_get_patterns, NULL,
     PyDoc_STR("The dict the protocol routes pattern messages through."), NULL},
    {"db", (getter)Protocol_get_db, NULL, PyDoc_STR("Current database index (read-only)."), NULL},
    {"encoding", (getter)Protocol_get_encoding, NULL,
     PyDoc_STR("Codec used to decode replies, or None (read-only)."), NULL},
    {"closed", (getter)Protocol_get_closed, NULL,
     PyDoc_STR("True once the connection is closed (read-only)."), NULL},
    {"in_transaction", (getter)Protocol_get_in_transaction, NULL,
     PyDoc_STR("True between a MULTI and its EXEC or DISCARD (read-only)."), NULL},
    {"transport", (getter)Protocol_get_transport, NULL,
     PyDoc_STR("The asyncio transport, or None when not connected."), NULL},
    {"pending", (getter)Protocol_get_pending, NULL,
     PyDoc_STR("Number of commands waiting for a reply."), NULL},
    {"writing_paused", (getter)Protocol_get_writing_paused, NULL,
     PyDoc_STR("True while the transport asked us to stop writing."), NULL},
    {"_read_buffer_size", (getter)Protocol_get_read_buffer_size, NULL,
     PyDoc_STR("Bytes allocated for the parser's read buffer (internal: for tests)."), NULL},
    {"_direct_sends", (getter)Protocol_get_direct_sends, NULL,
     PyDoc_STR("Commands sent with sendmsg() beneath the transport (internal: for tests)."), NULL},
    {NULL},
};

static PyMethodDef Protocol_methods[] = {
    {"execute", (PyCFunction)(void (*)(void))Protocol_execute,
     METH_FASTCALL | METH_KEYWORDS, Protocol_execute__doc__},
    {"close", (PyCFunction)Protocol_close, METH_NOARGS, Protocol_close__doc__},
    {"_execute_pubsub_acks", (PyCFunction)(void (*)(void))Protocol_execute_pubsub_acks,
     METH_FASTCALL, Protocol_execute_pubsub_acks__doc__},
    {"connection_made", (PyCFunction)Protocol_connection_made, METH_O, NULL},
    {"data_received", (PyCFunction)Protocol_data_received, METH_O, NULL},
    {"get_buffer", (PyCFunction)Protocol_get_buffer, METH_O, NULL},
    {"buffer_updated", (PyCFunction)Protocol_buffer_updated, METH_O, NULL},
    {"eof_received", (PyCFunction)Protocol_eof_received, METH_NOARGS, NULL},
    {"connection_lost", (PyCFunction)Protocol_connection_lost, METH_O, NULL},
    {"pause_writing", (PyCFunction)Protocol_pause_writing, METH_NOARGS, NULL},
    {"resume_writing", (PyCFunction)Protocol_resume_writing, METH_NOARGS, NULL},
    {"_flush", (PyCFunction)Protocol_flush, METH_NOARGS, NULL},
    {"_cork", (PyCFunction)Protocol_cork, METH_NOARGS, NULL},
    {"_execute_batch", (PyCFunction)Protocol_execute_batch, METH_O, Protocol_execute_batch__doc__},
    {"_uncork", (PyCFunction)Protocol_uncork, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Protocol_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("RedisProtocolBase(loop, encoding=None)\n--\n\n"
                                  "The C half of RedisConnection: an asyncio protocol that "
                                  "pipelines commands and resolves their futures.")},
    {Py_tp_new, Protocol_new},
    {Py_tp_init, Protocol_init},
    {Py_tp_dealloc, Protocol_dealloc},
    {Py_tp_traverse, Protocol_traverse},
    {Py_tp_clear, Protocol_clear},
    {Py_tp_methods, Protocol_methods},
    {Py_tp_getset, Protocol_getset},
    {Py_bf_getbuffer, Protocol_getbuffer},
    {Py_bf_releasebuffer, Protocol_releasebuffer},
    {0, NULL},
};

PyType_Spec aior_Protocol_spec = {
    .name = "aioredis._core.RedisProtocolBase",
    .basicsize = sizeof(ProtocolObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Protocol_slots,
};
