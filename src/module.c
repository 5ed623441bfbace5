/* aioredis._core: module definition, state and initialisation (PEP 489). */
#include "module.h"

static struct PyModuleDef aior_module;

aior_state *
aior_state_from_module(PyObject *module)
{
    return (aior_state *)PyModule_GetState(module);
}

/* The types are created with PyType_FromModuleAndSpec, and the module
 * outlives them, so the lookup by definition cannot fail for our types or
 * their subclasses. */
aior_state *
aior_state_from_type(PyTypeObject *type)
{
    PyObject *module = PyType_GetModuleByDef(type, &aior_module);
    assert(module != NULL);
    return aior_state_from_module(module);
}

static PyObject *
import_attr(const char *module_name, const char *attr)
{
    PyObject *module = PyImport_ImportModule(module_name);
    if (module == NULL) {
        return NULL;
    }
    PyObject *value = PyObject_GetAttrString(module, attr);
    Py_DECREF(module);
    return value;
}

static PyObject *
add_type(PyObject *module, PyType_Spec *spec)
{
    PyObject *type = PyType_FromModuleAndSpec(module, spec, NULL);
    if (type == NULL) {
        return NULL;
    }
    if (PyModule_AddType(module, (PyTypeObject *)type) < 0) {
        Py_DECREF(type);
        return NULL;
    }
    return type;
}

static int
aior_exec(PyObject *module)
{
    aior_state *st = aior_state_from_module(module);

#define INTERN(field, text)                                  \
    do {                                                     \
        st->field = PyUnicode_InternFromString(text);        \
        if (st->field == NULL) {                             \
            goto error;                                      \
        }                                                    \
    } while (0)
#define IMPORT(field, mod, name)                             \
    do {                                                     \
        st->field = import_attr(mod, name);                  \
        if (st->field == NULL) {                             \
            goto error;                                      \
        }                                                    \
    } while (0)

    INTERN(str_set_result, "set_result");
    INTERN(str_set_exception, "set_exception");
    INTERN(str_create_future, "create_future");
    INTERN(str_call_soon, "call_soon");
    INTERN(str_write, "write");
    INTERN(str_writelines, "writelines");
    INTERN(str_maybe_pause_protocol, "_maybe_pause_protocol");
    INTERN(str_close, "close");
    INTERN(str_abort, "abort");
    INTERN(str_execute_pubsub, "execute_pubsub");
    INTERN(str_put_nowait, "put_nowait");
    INTERN(str_get_extra_info, "get_extra_info");
    INTERN(str_get_write_buffer_size, "get_write_buffer_size");
    INTERN(str_is_closing, "is_closing");
    INTERN(str_sslcontext, "sslcontext");
    INTERN(str_ssl_object, "ssl_object");
    INTERN(str_socket, "socket");
    INTERN(str__commands, "_commands");
    INTERN(str__results, "_results");
    INTERN(str__call_done, "_call_done");
    INTERN(str__call_failed, "_call_failed");
    INTERN(str__call_other, "_call_other");
    INTERN(str__buffer_command, "_buffer_command");
    INTERN(str__checks_commands, "_checks_commands");

    IMPORT(RedisError, "aioredis.errors", "RedisError");
    IMPORT(ProtocolError, "aioredis.errors", "ProtocolError");
    IMPORT(ReplyError, "aioredis.errors", "ReplyError");
    IMPORT(ConnectionClosedError, "aioredis.errors", "ConnectionClosedError");
    IMPORT(ConnectionForcedCloseError, "aioredis.errors", "ConnectionForcedCloseError");
    IMPORT(InvalidStateError, "asyncio", "InvalidStateError");
    IMPORT(CancelledError, "asyncio", "CancelledError");
    IMPORT(get_running_loop, "asyncio", "get_running_loop");
    /* optional: without it every write goes through the transport (3.11's
     * sendmsg.c) and no pause is asked after writelines() (protocol.c) */
    st->SelectorSocketTransport = import_attr("asyncio.selector_events", "_SelectorSocketTransport");
    if (st->SelectorSocketTransport == NULL) {
        PyErr_Clear();
    }
    st->context_kwnames = Py_BuildValue("(s)", "context");
    if (st->context_kwnames == NULL) {
        goto error;
    }

    /* "use the connection's encoding": a unique object, exported as NOTSET */
    st->notset = PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type);
    if (st->notset == NULL || PyModule_AddObjectRef(module, "NOTSET", st->notset) < 0) {
        goto error;
    }

    st->ok_bytes = PyBytes_FromStringAndSize("OK", 2);
    if (st->ok_bytes == NULL) {
        goto error;
    }
    st->pairs_to_dict = PyObject_GetAttrString(module, "pairs_to_dict");
    if (st->pairs_to_dict == NULL) {
        goto error;
    }

    st->Reader_type = (PyTypeObject *)add_type(module, &aior_Reader_spec);
    if (st->Reader_type == NULL) {
        goto error;
    }
    st->Protocol_type = (PyTypeObject *)add_type(module, &aior_Protocol_spec);
    if (st->Protocol_type == NULL) {
        goto error;
    }
    st->PipelineCall_type = (PyTypeObject *)add_type(module, &aior_PipelineCall_spec);
    if (st->PipelineCall_type == NULL) {
        goto error;
    }
    st->PipelineRecorder_type = (PyTypeObject *)add_type(module, &aior_PipelineRecorder_spec);
    if (st->PipelineRecorder_type == NULL) {
        goto error;
    }
    st->PipelineFuture_type = (PyTypeObject *)add_type(module, &aior_PipelineFuture_spec);
    if (st->PipelineFuture_type == NULL) {
        goto error;
    }
    st->PipelineFutureIter_type = (PyTypeObject *)add_type(module, &aior_PipelineFutureIter_spec);
    if (st->PipelineFutureIter_type == NULL) {
        goto error;
    }
    if (PyModule_AddIntConstant(module, "MAX_BULK_LEN", (long)AIOR_MAX_BULK_LEN) < 0 ||
        PyModule_AddIntConstant(module, "MAX_DEPTH", AIOR_MAX_DEPTH) < 0) {
        goto error;
    }
    return 0;

error:
    return -1; /* m_clear releases whatever was set */
#undef INTERN
#undef IMPORT
}

static int
aior_traverse(PyObject *module, visitproc visit, void *arg)
{
    aior_state *st = aior_state_from_module(module);
    Py_VISIT(st->Reader_type);
    Py_VISIT(st->Protocol_type);
    Py_VISIT(st->PipelineCall_type);
    Py_VISIT(st->PipelineRecorder_type);
    Py_VISIT(st->PipelineFuture_type);
    Py_VISIT(st->PipelineFutureIter_type);
    Py_VISIT(st->RedisError);
    Py_VISIT(st->ProtocolError);
    Py_VISIT(st->ReplyError);
    Py_VISIT(st->ConnectionClosedError);
    Py_VISIT(st->ConnectionForcedCloseError);
    Py_VISIT(st->InvalidStateError);
    Py_VISIT(st->CancelledError);
    Py_VISIT(st->get_running_loop);
    Py_VISIT(st->SelectorSocketTransport);
    Py_VISIT(st->context_kwnames);
    Py_VISIT(st->notset);
    Py_VISIT(st->pairs_to_dict);
    Py_VISIT(st->ok_bytes);
    return 0;
}

static int
aior_clear(PyObject *module)
{
    aior_state *st = aior_state_from_module(module);
    Py_CLEAR(st->Reader_type);
    Py_CLEAR(st->Protocol_type);
    Py_CLEAR(st->PipelineCall_type);
    Py_CLEAR(st->PipelineRecorder_type);
    Py_CLEAR(st->PipelineFuture_type);
    Py_CLEAR(st->PipelineFutureIter_type);
    Py_CLEAR(st->RedisError);
    Py_CLEAR(st->ProtocolError);
    Py_CLEAR(st->ReplyError);
    Py_CLEAR(st->ConnectionClosedError);
    Py_CLEAR(st->ConnectionForcedCloseError);
    Py_CLEAR(st->InvalidStateError);
    Py_CLEAR(st->CancelledError);
    Py_CLEAR(st->get_running_loop);
    Py_CLEAR(st->SelectorSocketTransport);
    Py_CLEAR(st->context_kwnames);
    Py_CLEAR(st->notset);
    Py_CLEAR(st->pairs_to_dict);
    Py_CLEAR(st->ok_bytes);
    Py_CLEAR(st->str_set_result);
    Py_CLEAR(st->str_set_exception);
    Py_CLEAR(st->str_create_future);
    Py_CLEAR(st->str_call_soon);
    Py_CLEAR(st->str_write);
    Py_CLEAR(st->str_writelines);
    Py_CLEAR(st->str_maybe_pause_protocol);
    Py_CLEAR(st->str_close);
    Py_CLEAR(st->str_abort);
    Py_CLEAR(st->str_execute_pubsub);
    Py_CLEAR(st->str_put_nowait);
    Py_CLEAR(st->str_get_extra_info);
    Py_CLEAR(st->str_get_write_buffer_size);
    Py_CLEAR(st->str_is_closing);
    Py_CLEAR(st->str_sslcontext);
    Py_CLEAR(st->str_ssl_object);
    Py_CLEAR(st->str_socket);
    Py_CLEAR(st->str__commands);
    Py_CLEAR(st->str__results);
    Py_CLEAR(st->str__call_done);
    Py_CLEAR(st->str__call_failed);
    Py_CLEAR(st->str__call_other);
    Py_CLEAR(st->str__buffer_command);
    Py_CLEAR(st->str__checks_commands);
    return 0;
}

static void
aior_free(void *module)
{
    aior_clear((PyObject *)module);
}

PyDoc_STRVAR(pack_command__doc__,
"pack_command(command, *args)\n--\n\n"
"Encode a command as a RESP array of bulk strings. Arguments may be bytes,\n"
"bytearray, memoryview, str (UTF-8), int or float; anything else raises\n"
"TypeError naming its position.");

PyDoc_STRVAR(pairs_to_dict__doc__,
"pairs_to_dict(reply, /)\n--\n\n"
"[k1, v1, k2, v2, ...] -> {k1: v1, k2: v2}; anything but a list or tuple\n"
"is returned as it is.");

PyDoc_STRVAR(ok__doc__,
"ok(reply, /)\n--\n\n"
"True for an OK status (bytes or str), False otherwise; QUEUED passes through.");

PyDoc_STRVAR(results_of__doc__,
"results_of(futures, /)\n--\n\n"
"The list of the results of futures (a list of PipelineFutures) if every\n"
"one has a result; None if any is pending, failed, cancelled or of another\n"
"type. A pipeline's execute() in one call for the usual case.");

static PyMethodDef aior_methods[] = {
    {"results_of", (PyCFunction)aior_future_results, METH_O, results_of__doc__},
    {"ok", (PyCFunction)aior_ok, METH_O, ok__doc__},
    {"pairs_to_dict", (PyCFunction)aior_pairs_to_dict, METH_O, pairs_to_dict__doc__},
    {"pack_command", (PyCFunction)(void (*)(void))aior_pack_command, METH_FASTCALL,
     pack_command__doc__},
    {NULL, NULL, 0, NULL},
};

/* The module is isolated (PEP 630: state in the module, heap types, no
 * static objects), so each interpreter, even one with its own GIL, gets its
 * own copy. It relies on the GIL: free-threaded builds re-enable it. */
static PyModuleDef_Slot aior_slots[] = {
    {Py_mod_exec, aior_exec},
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef aior_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "aioredis._core",
    .m_doc = "C core of aioredis: RESP parser, command encoder and asyncio protocol.",
    .m_size = sizeof(aior_state),
    .m_methods = aior_methods,
    .m_slots = aior_slots,
    .m_traverse = aior_traverse,
    .m_clear = aior_clear,
    .m_free = aior_free,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    return PyModuleDef_Init(&aior_module);
}
