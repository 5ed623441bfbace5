/* A command with big bytes arguments in one sendmsg() call.
 *
 * Big arguments (AIOR_BIG_ARG and up) are not copied into the output
 * buffer: the command leaves as its parts, head, value, CRLF, ... Handed
 * to transport.write one by one they are three sends, and on loopback
 * three sends of a 1 MiB SET cost ~0.2 ms more than one (the server wakes
 * for each part; bench/README.md, W5). So when the connection's transport
 * is the standard library's socket transport and it has nothing buffered,
 * the parts go in one scatter/gather sendmsg() on its socket, without a
 * copy. Whatever the socket does not take (it is non-blocking) is handed
 * to transport.write in order, which buffers it as usual; on a socket
 * error everything is, and the transport meets the error itself.
 *
 * Writing to the socket under the transport is safe only while the
 * transport would write at once itself: it is the plain socket transport
 * (exact type: not TLS, not another loop's; no ssl extra), it is not
 * closing, not paused, its buffer is empty (nothing can be overtaken) and
 * its socket still has the fd we know; all checked before every send.
 * Only on Python 3.11: from 3.12 the transport's writelines() sends a list
 * in one sendmsg() itself, and write_scattered() uses that.
 */
#include "protocol.h"

#ifdef AIOR_SENDMSG
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* At most this many big arguments in one command take this path. */
#define MAX_BIG_PARTS 16

/* transport.get_extra_info(name) is None: 1, 0, or -1 with an exception. */
static int
extra_is_none(ProtocolObject *self, PyObject *transport, PyObject *name)
{
    PyObject *v = PyObject_CallMethodOneArg(transport, self->st->str_get_extra_info, name);
    if (v == NULL) {
        return -1;
    }
    int r = v == Py_None;
    Py_DECREF(v);
    return r;
}

int
aior_socket_fd(ProtocolObject *self, PyObject *transport)
{
    aior_state *st = self->st;
    Py_CLEAR(self->sock);
    if (st->SelectorSocketTransport == NULL ||
        (PyObject *)Py_TYPE(transport) != st->SelectorSocketTransport ||
        extra_is_none(self, transport, st->str_sslcontext) != 1 ||
        extra_is_none(self, transport, st->str_ssl_object) != 1) {
        PyErr_Clear(); /* no socket to use: the transport writes everything */
        return -1;
    }
    PyObject *sock = PyObject_CallMethodOneArg(transport, st->str_get_extra_info, st->str_socket);
    int fd = sock == NULL || sock == Py_None ? -1 : PyObject_AsFileDescriptor(sock);
    if (fd < 0) {
        PyErr_Clear();
        Py_XDECREF(sock);
        return -1;
    }
    self->sock = sock;
    return fd;
}

/* The transport would write at once: not closing, nothing buffered, and its
 * socket still ours. 1, 0, or -1 with an exception. */
static int
transport_writes_now(ProtocolObject *self)
{
    int closing = aior_transport_closing(self);
    if (closing != 0) {
        return closing < 0 ? -1 : 0;
    }
    if (self->transport == NULL) {
        return 0;
    }
    PyObject *size = aior_transport_call(self, self->st->str_get_write_buffer_size);
    if (size == NULL) {
        return -1;
    }
    Py_ssize_t n = PyLong_AsSsize_t(size);
    Py_DECREF(size);
    if (n == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (n != 0 || self->sock == NULL) {
        return 0;
    }
    /* closed under the transport, the fd may be another socket's by now */
    PyObject *sock = Py_NewRef(self->sock);
    int fd = PyObject_AsFileDescriptor(sock);
    Py_DECREF(sock);
    if (fd < 0) {
        PyErr_Clear();
    }
    return fd >= 0 && fd == self->sock_fd;
}

/* part[skip:] as an object for transport.write: a copy of the memory at ptr
 * (owner NULL: the output buffer's), or the bytes object owner or a view of
 * its tail. New reference, or NULL with an exception set. */
static PyObject *
rest_of(PyObject *owner, const char *ptr, size_t len, size_t skip)
{
    if (owner == NULL) {
        return PyBytes_FromStringAndSize(ptr + skip, (Py_ssize_t)(len - skip));
    }
    if (skip == 0) {
        return Py_NewRef(owner);
    }
    PyObject *view = PyMemoryView_FromObject(owner);
    PyObject *tail = view ? PySequence_GetSlice(view, (Py_ssize_t)skip, (Py_ssize_t)len) : NULL;
    Py_XDECREF(view);
    return tail;
}

int
aior_send_direct(ProtocolObject *self, const aior_cmd *cmd)
{
    if (self->sock_fd < 0 || self->state != STATE_OPEN || self->paused || self->out_len != 0) {
        return 0;
    }
    int now = transport_writes_now(self);
    if (now <= 0) {
        return now; /* -1: error; 0: the usual way */
    }
    /* that was Python code: check again */
    if (self->sock_fd < 0 || self->state != STATE_OPEN || self->paused || self->out_len != 0) {
        return 0;
    }
    char *scratch = aior_out_reserve(self, cmd->size - cmd->big_bytes);
    if (scratch == NULL) {
        return -1;
    }
    struct iovec iov[2 * MAX_BIG_PARTS + 1];
    PyObject *owner[2 * MAX_BIG_PARTS + 1];
    int n_iov = 0;
    /* the small parts are written at scratch (the output buffer's free
     * room, used and left empty), the big ones point into their bytes */
    size_t w = aior_cmd_write_head(cmd, scratch), seg = 0;
    for (Py_ssize_t i = 0; i < cmd->n; i++) {
        const aior_arg *a = &cmd->items[i];
        if (!aior_arg_is_big(a)) {
            w += aior_arg_write(a, scratch + w, 1);
            continue;
        }
        if (n_iov + 3 > (int)Py_ARRAY_LENGTH(iov)) {
            return 0; /* a great many big arguments: the usual way */
        }
        w += aior_arg_write(a, scratch + w, 0);
        iov[n_iov] = (struct iovec){scratch + seg, w - seg};
        owner[n_iov++] = NULL;
        iov[n_iov] = (struct iovec){(void *)a->ptr, (size_t)a->len};
        owner[n_iov++] = a->bytes;
        seg = w;
        scratch[w++] = '\r';
        scratch[w++] = '\n';
    }
    iov[n_iov] = (struct iovec){scratch + seg, w - seg};
    owner[n_iov++] = NULL;

    struct msghdr msg = {0};
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)n_iov;
    int flags = 0;
#ifdef MSG_NOSIGNAL
    flags = MSG_NOSIGNAL;
#endif
    ssize_t sent;
    do {
        sent = sendmsg(self->sock_fd, &msg, flags);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        sent = 0; /* would block, or an error the transport will report */
    }
    self->direct_sends++;
    /* The rest, in order, to the transport. Made into objects first: the
     * small parts live in the output buffer, and transport.write is Python. */
    PyObject *rest[2 * MAX_BIG_PARTS + 1];
    int n_rest = 0, rc = 1;
    size_t skip = (size_t)sent;
    for (int k = 0; k < n_iov; k++) {
        size_t len = iov[k].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        rest[n_rest] = rest_of(owner[k], iov[k].iov_base, len, skip);
        if (rest[n_rest] == NULL) {
            rc = -1;
            goto done;
        }
        n_rest++;
        skip = 0;
    }
    for (int k = 0; k < n_rest && self->state == STATE_OPEN; k++) { /* a failed write closes us */
        PyObject *r = PyObject_CallMethodOneArg(self->transport, self->st->str_write, rest[k]);
        if (r == NULL) {
            rc = -1;
            goto done;
        }
        Py_DECREF(r);
    }
done:
    for (int k = 0; k < n_rest; k++) {
        Py_DECREF(rest[k]);
    }
    return rc;
}

#else /* 3.12+, or no sendmsg(): the transport writes everything */

int
aior_socket_fd(ProtocolObject *self, PyObject *transport)
{
    (void)self;
    (void)transport;
    return -1;
}

int
aior_send_direct(ProtocolObject *self, const aior_cmd *cmd)
{
    (void)self;
    (void)cmd;
    return 0;
}
#endif
