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
 * Writing to the socket under the transport is safe only because its
 * buffer is empty (nothing can be overtaken) and because it is the plain
 * socket transport (not TLS, not another loop's), checked by exact type.
 * Python 3.12's transport.writelines() does the same sendmsg(); this keeps
 * one code path for every version.
 */
#include "protocol.h"

#ifndef _WIN32
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#endif

/* At most this many big arguments in one command take this path. */
#define MAX_BIG_PARTS 16

int
aior_socket_fd(ProtocolObject *self, PyObject *transport)
{
#ifdef _WIN32
    (void)self;
    (void)transport;
    return -1;
#else
    aior_state *st = self->st;
    if (st->SelectorSocketTransport == NULL ||
        (PyObject *)Py_TYPE(transport) != st->SelectorSocketTransport) {
        return -1;
    }
    PyObject *sock = PyObject_CallMethodOneArg(transport, st->str_get_extra_info, st->str_socket);
    int fd = sock == NULL || sock == Py_None ? -1 : PyObject_AsFileDescriptor(sock);
    Py_XDECREF(sock);
    if (fd < 0) {
        PyErr_Clear(); /* no socket to use: the transport writes everything */
    }
    return fd;
#endif
}

#ifndef _WIN32
/* transport.get_write_buffer_size() == 0: 1, 0, or -1 with an exception. */
static int
transport_buffer_empty(ProtocolObject *self)
{
    PyObject *size = PyObject_CallMethodNoArgs(self->transport, self->st->str_get_write_buffer_size);
    if (size == NULL) {
        return -1;
    }
    Py_ssize_t n = PyLong_AsSsize_t(size);
    Py_DECREF(size);
    if (n == -1 && PyErr_Occurred()) {
        return -1;
    }
    return n == 0;
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
#endif

int
aior_send_direct(ProtocolObject *self, const aior_cmd *cmd)
{
#ifdef _WIN32
    (void)self;
    (void)cmd;
    return 0;
#else
    if (self->sock_fd < 0 || self->state != STATE_OPEN || self->paused || self->out_len != 0) {
        return 0;
    }
    int empty = transport_buffer_empty(self);
    if (empty <= 0) {
        return empty; /* -1: error; 0: data pending there, the usual way */
    }
    /* that was Python code: check again */
    if (self->state != STATE_OPEN || self->paused || self->out_len != 0) {
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
#endif
}
