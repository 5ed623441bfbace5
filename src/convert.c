/* Reply converters implemented in C (see aioredis/commands/_convert.py). */
#include "module.h"

#include <string.h>

/* pairs_to_dict(reply): [k1, v1, k2, v2, ...] -> {k1: v1, k2: v2}. The
 * protocol knows this function: a reply it is waiting for is built as the
 * dict directly (see resp_build_ctx.flat_map), and arrives here done.
 * Anything that is not a list or tuple (that dict, QUEUED inside MULTI)
 * passes through; an odd last element is dropped, as zip() would. */
PyObject *
aior_pairs_to_dict(PyObject *module, PyObject *reply)
{
    if (!PyList_Check(reply) && !PyTuple_Check(reply)) {
        return Py_NewRef(reply);
    }
    PyObject *seq = Py_NewRef(reply);
    PyObject *dict = PyDict_New();
    if (dict == NULL) {
        goto error;
    }
    /* the size is read again each time: a key's __hash__ may change a list */
    for (Py_ssize_t i = 0; i + 1 < PySequence_Fast_GET_SIZE(seq); i += 2) {
        PyObject *key = Py_NewRef(PySequence_Fast_GET_ITEM(seq, i));
        PyObject *value = Py_NewRef(PySequence_Fast_GET_ITEM(seq, i + 1));
        int r = PyDict_SetItem(dict, key, value);
        Py_DECREF(key);
        Py_DECREF(value);
        if (r < 0) {
            goto error;
        }
    }
    Py_DECREF(seq);
    return dict;
error:
    Py_XDECREF(dict);
    Py_DECREF(seq);
    return NULL;
}

/* Is reply the status text (bytes or str, as decoded) equal to text? */
static int
is_status(PyObject *reply, const char *text, Py_ssize_t n)
{
    if (PyBytes_CheckExact(reply)) {
        return PyBytes_GET_SIZE(reply) == n && memcmp(PyBytes_AS_STRING(reply), text, (size_t)n) == 0;
    }
    if (PyUnicode_CheckExact(reply)) {
        return PyUnicode_GET_LENGTH(reply) == n && PyUnicode_CompareWithASCIIString(reply, text) == 0;
    }
    return 0;
}

/* ok(reply): True for an OK status, False otherwise; QUEUED (inside MULTI)
 * passes through. */
PyObject *
aior_ok(PyObject *module, PyObject *reply)
{
    if (is_status(reply, "QUEUED", 6)) {
        return Py_NewRef(reply);
    }
    return PyBool_FromLong(is_status(reply, "OK", 2));
}
