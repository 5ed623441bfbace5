/* Shared declarations of the aioredis._core extension.
 *
 * Everything is static except the aior_* functions declared here; the
 * extension is built with -fvisibility=hidden so that only PyInit__core is
 * exported.
 */
#ifndef AIOR_MODULE_H
#define AIOR_MODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* PyMemberDef type codes: the Py_T_* names are public from 3.12; 3.11 has
 * only structmember.h's. */
#if PY_VERSION_HEX < 0x030C0000
#include <structmember.h>
#define Py_T_OBJECT_EX T_OBJECT_EX
#define Py_T_PYSSIZET T_PYSSIZET
#define Py_T_BOOL T_BOOL
#define Py_READONLY READONLY
#endif

/* Limits on what a peer may declare (Redis's own proto-max-bulk-len default
 * and a nesting depth no real reply comes near). */
#define AIOR_MAX_BULK_LEN (512LL * 1024 * 1024)
#define AIOR_MAX_COUNT 4294967295LL /* 2**32 - 1 */
#define AIOR_MAX_DEPTH 1024
#define AIOR_MAX_HEADER_LINE 64

typedef struct {
    /* heap types */
    PyTypeObject *Reader_type;
    PyTypeObject *Protocol_type;
    PyTypeObject *PipelineCall_type;
    PyTypeObject *PipelineRecorder_type;
    PyTypeObject *PipelineFuture_type;
    PyTypeObject *PipelineFutureIter_type;
    /* classes imported from aioredis.errors and asyncio */
    PyObject *RedisError;
    PyObject *ProtocolError;
    PyObject *ReplyError;
    PyObject *ConnectionClosedError;
    PyObject *ConnectionForcedCloseError;
    PyObject *InvalidStateError;
    PyObject *CancelledError;
    PyObject *get_running_loop; /* asyncio.get_running_loop */
    /* asyncio's socket transport (private: NULL if it cannot be imported,
     * and on 3.12+), whose socket may be written to directly (sendmsg.c) */
    PyObject *SelectorSocketTransport;
    PyObject *context_kwnames;  /* ("context",) */
    /* the "use the connection's encoding" sentinel (aioredis.util._NOTSET) */
    PyObject *notset;
    /* b"OK": the reply to SET and friends, made once */
    PyObject *ok_bytes;
    /* this module's pairs_to_dict: a reply for it is built as a dict */
    PyObject *pairs_to_dict;
    /* interned method and attribute names */
    PyObject *str_set_result;
    PyObject *str_set_exception;
    PyObject *str_create_future;
    PyObject *str_call_soon;
    PyObject *str_write;
    PyObject *str_writelines;
    PyObject *str_maybe_pause_protocol;
    PyObject *str_close;
    PyObject *str_abort;
    PyObject *str_execute_pubsub;
    PyObject *str_put_nowait;
    PyObject *str_get_extra_info;
    PyObject *str_get_write_buffer_size;
    PyObject *str_is_closing;
    PyObject *str_sslcontext;
    PyObject *str_ssl_object;
    PyObject *str_socket;
    PyObject *str__commands;
    PyObject *str__results;
    PyObject *str__call_done;
    PyObject *str__call_failed;
    PyObject *str__call_other;
    PyObject *str__buffer_command;
    PyObject *str__checks_commands;
} aior_state;

/* The raised exception as one object (PyErr_GetRaisedException on 3.12+). */
#if PY_VERSION_HEX >= 0x030C0000
#define aior_fetch_exception PyErr_GetRaisedException
#else
static inline PyObject *
aior_fetch_exception(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL) {
        PyException_SetTraceback(value, tb);
    }
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
}
#endif

/* Raise exc again (steals the reference). */
#if PY_VERSION_HEX >= 0x030C0000
#define aior_restore_exception PyErr_SetRaisedException
#else
static inline void
aior_restore_exception(PyObject *exc)
{
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc,
                  PyException_GetTraceback(exc));
}
#endif

/* The private C-API calls, each in one place (PEP 782 may replace the
 * first with PyBytesWriter). */

/* Resize a bytes object we hold the only reference to; on failure *pv is
 * freed and set to NULL, with MemoryError set. */
static inline int
aior_bytes_resize(PyObject **pv, Py_ssize_t size)
{
    return _PyBytes_Resize(pv, size);
}

/* A dict with room for n items (a plain one where presizing is not offered). */
static inline PyObject *
aior_dict_presized(Py_ssize_t n)
{
#if PY_VERSION_HEX < 0x030D0000
    return _PyDict_NewPresized(n);
#else
    (void)n;
    return PyDict_New();
#endif
}

aior_state *aior_state_from_module(PyObject *module);
aior_state *aior_state_from_type(PyTypeObject *type);

/* Type specs and helpers defined in the other files. */
extern PyType_Spec aior_Reader_spec;
extern PyType_Spec aior_Protocol_spec;
extern PyType_Spec aior_PipelineCall_spec;
extern PyType_Spec aior_PipelineRecorder_spec;
extern PyType_Spec aior_PipelineFuture_spec;
extern PyType_Spec aior_PipelineFutureIter_spec;
PyObject *aior_pack_command(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *aior_pairs_to_dict(PyObject *module, PyObject *reply);
PyObject *aior_ok(PyObject *module, PyObject *reply);

/* A new pending PipelineFuture of loop, holding command (command, args
 * tuple, encoding, convert) unless that is NULL. */
PyObject *aior_future_new(aior_state *st, PyObject *loop, PyObject *const command[4]);
/* Move a PipelineFuture's command out (four new references for the
 * caller); -1 with TypeError if fut is not one or holds none. */
int aior_future_take_command(aior_state *st, PyObject *fut, PyObject *command[4]);
/* Set a PipelineFuture's result (or exception): 1 if set, 0 if it was done
 * already (cancelled), -1 if scheduling its callbacks failed. */
int aior_future_resolve(PyObject *fut, PyObject *value, int is_exception);
/* results_of(futures): the list of their results if every one is a
 * PipelineFuture with a result, else None. */
PyObject *aior_future_results(PyObject *module, PyObject *futures);

#endif
