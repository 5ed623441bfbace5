/* Command encoder and aioredis._core.pack_command(). */
#include "encoder.h"

#include <stddef.h>
#include <string.h>

static size_t
format_u64(char *out, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) {
        out[i] = tmp[n - 1 - i];
    }
    return n;
}

static size_t
format_i64(char *out, long long v)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + format_u64(out + 1, (uint64_t)0 - (uint64_t)v);
    }
    return format_u64(out, (uint64_t)v);
}

static size_t
digits(size_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static int
refuse(Py_ssize_t position, PyObject *arg)
{
    PyErr_Format(PyExc_TypeError,
                 "argument %zd has unsupported type %.100s: expected bytes, bytearray, "
                 "memoryview, str, int or float",
                 position, Py_TYPE(arg)->tp_name);
    return -1;
}

static int
prepare_one(aior_arg *a, Py_ssize_t position, PyObject *arg)
{
    if (PyBytes_CheckExact(arg)) {
        a->ptr = PyBytes_AS_STRING(arg);
        a->len = PyBytes_GET_SIZE(arg);
        a->bytes = arg;
    }
    else if (PyUnicode_CheckExact(arg)) {
        a->ptr = PyUnicode_AsUTF8AndSize(arg, &a->len);
        if (a->ptr == NULL) {
            return -1;
        }
    }
    else if (PyLong_CheckExact(arg)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(arg, &overflow);
        if (v == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (!overflow) {
            a->len = (Py_ssize_t)format_i64(a->num, v);
            a->ptr = a->num;
        }
        else {
            a->owned = PyObject_Str(arg);
            if (a->owned == NULL) {
                return -1;
            }
            a->ptr = PyUnicode_AsUTF8AndSize(a->owned, &a->len);
            if (a->ptr == NULL) {
                return -1;
            }
        }
    }
    else if (PyFloat_CheckExact(arg)) {
        /* the same text as str(value): 1.0 -> "1.0", inf -> "inf" */
        a->heap = PyOS_double_to_string(PyFloat_AS_DOUBLE(arg), 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
        if (a->heap == NULL) {
            return -1;
        }
        a->ptr = a->heap;
        a->len = (Py_ssize_t)strlen(a->heap);
    }
    else if (PyByteArray_CheckExact(arg) || PyMemoryView_Check(arg)) {
        if (PyObject_GetBuffer(arg, &a->view, PyBUF_SIMPLE) < 0) {
            return -1;
        }
        a->has_view = 1;
        a->ptr = a->view.buf;
        a->len = a->view.len;
    }
    else {
        return refuse(position, arg);
    }
    return 0;
}

int
aior_cmd_prepare(aior_cmd *cmd, PyObject *const *args, Py_ssize_t nargs)
{
    cmd->n = 0;
    cmd->items = cmd->small;
    if (nargs > AIOR_SMALL_ARGS) {
        cmd->items = PyMem_Calloc((size_t)nargs, sizeof(aior_arg));
        if (cmd->items == NULL) {
            cmd->items = cmd->small;
            PyErr_NoMemory();
            return -1;
        }
    }
    size_t size = 1 + digits((size_t)nargs) + 2; /* *N\r\n */
    cmd->big_bytes = 0;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        aior_arg *a = &cmd->items[i];
        memset(a, 0, offsetof(aior_arg, num));
        cmd->n = i + 1; /* release() cleans up to here */
        if (prepare_one(a, i, args[i]) < 0) {
            aior_cmd_release(cmd);
            return -1;
        }
        size += 1 + digits((size_t)a->len) + 2 + (size_t)a->len + 2; /* $L\r\n..\r\n */
        if (aior_arg_is_big(a)) {
            cmd->big_bytes += (size_t)a->len;
        }
    }
    cmd->size = size;
    return 0;
}

int
aior_arg_is_big(const aior_arg *a)
{
    return a->bytes != NULL && a->len >= AIOR_BIG_ARG;
}

size_t
aior_cmd_write_head(const aior_cmd *cmd, char *dst)
{
    char *p = dst;
    *p++ = '*';
    p += format_u64(p, (uint64_t)cmd->n);
    *p++ = '\r';
    *p++ = '\n';
    return (size_t)(p - dst);
}

size_t
aior_arg_write(const aior_arg *a, char *dst, int with_payload)
{
    char *p = dst;
    *p++ = '$';
    p += format_u64(p, (uint64_t)a->len);
    *p++ = '\r';
    *p++ = '\n';
    if (with_payload) {
        if (a->len) {
            memcpy(p, a->ptr, (size_t)a->len);
        }
        p += a->len;
        *p++ = '\r';
        *p++ = '\n';
    }
    return (size_t)(p - dst);
}

void
aior_cmd_write(const aior_cmd *cmd, char *dst)
{
    dst += aior_cmd_write_head(cmd, dst);
    for (Py_ssize_t i = 0; i < cmd->n; i++) {
        dst += aior_arg_write(&cmd->items[i], dst, 1);
    }
}

void
aior_cmd_release(aior_cmd *cmd)
{
    for (Py_ssize_t i = 0; i < cmd->n; i++) {
        aior_arg *a = &cmd->items[i];
        Py_CLEAR(a->owned);
        if (a->heap) {
            PyMem_Free(a->heap);
            a->heap = NULL;
        }
        if (a->has_view) {
            PyBuffer_Release(&a->view);
            a->has_view = 0;
        }
    }
    if (cmd->items != cmd->small) {
        PyMem_Free(cmd->items);
    }
    cmd->items = cmd->small;
    cmd->n = 0;
}

PyObject *
aior_pack_command(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    aior_cmd cmd;
    if (nargs == 0) {
        PyErr_SetString(PyExc_TypeError, "pack_command() needs at least the command name");
        return NULL;
    }
    if (aior_cmd_prepare(&cmd, args, nargs) < 0) {
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cmd.size);
    if (out != NULL) {
        aior_cmd_write(&cmd, PyBytes_AS_STRING(out));
    }
    aior_cmd_release(&cmd);
    return out;
}
