/* aioredis._core.PipelineCall and PipelineRecorder: a pipeline's hot path.
 *
 * PipelineCall is what a pipeline's command methods are.
 *
 * pipe.set(k, v) runs the Redis method, which records the command in the
 * pipeline and returns its placeholder future; the wrapper adds that future
 * to the pipeline's results, without a Python frame on the common path
 * (aioredis/commands/pipeline.py has the rest): anything else
 * (the pipeline executed already, the method raising, a result that is not
 * the command just recorded) goes to the Python methods that handle it.
 */
#include "module.h"

#include <stddef.h>

/* The pipeline's buffering state lives in its recorder (C fields, so the
 * hot path does no attribute lookups): the pipeline's _commands and
 * _results lists (the same objects), and its "executed" flag. */
typedef struct {
    PyObject_HEAD
    aior_state *st;
    PyObject *pipeline;
    PyObject *slow;       /* pipeline._buffer_command */
    PyObject *loop;       /* the running loop, got at the first command */
    PyObject *commands;   /* pipeline._commands: placeholders holding commands */
    PyObject *results;    /* pipeline._results: what execute() returns */
    char done;            /* pipeline._done: executed already */
    int checks_commands;  /* pipeline._checks_commands (MultiExec) */
    vectorcallfunc vectorcall;
} PipelineRecorderObject;

typedef struct {
    PyObject_HEAD
    aior_state *st;
    PipelineRecorderObject *recorder;
    PyObject *method;
    vectorcallfunc vectorcall;
} PipelineCallObject;

static PyObject *
get_list(PyObject *pipeline, PyObject *name)
{
    PyObject *list = PyObject_GetAttr(pipeline, name);
    if (list != NULL && !PyList_Check(list)) {
        PyErr_Format(PyExc_TypeError, "pipeline.%U is not a list", name);
        Py_CLEAR(list);
    }
    return list;
}

static PyObject *
PipelineCall_vectorcall(PipelineCallObject *self, PyObject *const *args, size_t nargsf,
                        PyObject *kwnames)
{
    aior_state *st = self->st;
    PipelineRecorderObject *rec = self->recorder;
    if (rec->done) { /* executed already: the Python path says so */
        return PyObject_CallMethodOneArg(rec->pipeline, st->str__call_done, self->method);
    }
    PyObject *commands = Py_NewRef(rec->commands), *result = NULL, *out = NULL;
    Py_ssize_t n = PyList_GET_SIZE(commands);
    result = PyObject_Vectorcall(self->method, args, nargsf, kwnames);
    if (result == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_Exception)) {
            goto done; /* KeyboardInterrupt and the like pass through */
        }
        PyObject *exc = aior_fetch_exception();
        PyObject *size = PyLong_FromSsize_t(n);
        if (size != NULL) {
            out = PyObject_CallMethodObjArgs(rec->pipeline, st->str__call_failed, size, exc,
                                             NULL);
        }
        Py_XDECREF(size);
        Py_XDECREF(exc);
        goto done;
    }
    Py_ssize_t now = PyList_GET_SIZE(commands);
    if (now > n && PyList_GET_ITEM(commands, now - 1) == result) {
        if (PyList_Append(rec->results, result) == 0) {
            out = Py_NewRef(result);
        }
        goto done;
    }
    out = PyObject_CallMethodOneArg(rec->pipeline, st->str__call_other, result);
done:
    Py_XDECREF(result);
    Py_DECREF(commands);
    return out;
}

static PyObject *
PipelineCall_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *recorder, *method;
    aior_state *st = aior_state_from_type(type);
    if (kwds != NULL && PyDict_GET_SIZE(kwds) != 0) {
        PyErr_SetString(PyExc_TypeError, "PipelineCall() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "PipelineCall", 2, 2, &recorder, &method)) {
        return NULL;
    }
    if (!Py_IS_TYPE(recorder, st->PipelineRecorder_type)) {
        PyErr_SetString(PyExc_TypeError, "PipelineCall: recorder must be a PipelineRecorder");
        return NULL;
    }
    if (!PyCallable_Check(method)) {
        PyErr_SetString(PyExc_TypeError, "PipelineCall: method must be callable");
        return NULL;
    }
    PipelineCallObject *self = (PipelineCallObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->st = st;
    self->recorder = (PipelineRecorderObject *)Py_NewRef(recorder);
    self->method = Py_NewRef(method);
    self->vectorcall = (vectorcallfunc)PipelineCall_vectorcall;
    return (PyObject *)self;
}

static int
PipelineCall_traverse(PipelineCallObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->recorder);
    Py_VISIT(self->method);
    return 0;
}

static int
PipelineCall_clear(PipelineCallObject *self)
{
    Py_CLEAR(self->recorder);
    Py_CLEAR(self->method);
    return 0;
}

static void
PipelineCall_dealloc(PipelineCallObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    PipelineCall_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
PipelineCall_repr(PipelineCallObject *self)
{
    return PyUnicode_FromFormat("<PipelineCall %R>", self->method);
}

static PyMemberDef PipelineCall_members[] = {
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(PipelineCallObject, vectorcall), Py_READONLY},
    {"__wrapped__", Py_T_OBJECT_EX, offsetof(PipelineCallObject, method), Py_READONLY},
    {NULL},
};

static PyType_Slot PipelineCall_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("PipelineCall(recorder, method)\n--\n\n"
                                  "A pipeline's command method: runs method and records the "
                                  "placeholder it returns in the pipeline's results.")},
    {Py_tp_new, PipelineCall_new},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_traverse, PipelineCall_traverse},
    {Py_tp_clear, PipelineCall_clear},
    {Py_tp_dealloc, PipelineCall_dealloc},
    {Py_tp_repr, PipelineCall_repr},
    {Py_tp_members, PipelineCall_members},
    {0, NULL},
};

PyType_Spec aior_PipelineCall_spec = {
    .name = "aioredis._core.PipelineCall",
    .basicsize = sizeof(PipelineCallObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
             Py_TPFLAGS_IMMUTABLETYPE,
    .slots = PipelineCall_slots,
};

/* ------------------------------------------------------- PipelineRecorder
 *
 * What the Redis object inside a pipeline calls as its connection's
 * execute(command, *args, encoding=, convert=): records the command with a
 * placeholder future and returns the future. Pipeline._buffer_command
 * without its Python frame when the call is a plain one (bytes command,
 * known keywords of the usual types, a pipeline that checks no commands);
 * anything else is handed to that Python method itself. */

static PyObject *
PipelineRecorder_vectorcall(PipelineRecorderObject *self, PyObject *const *args, size_t nargsf,
                            PyObject *kwnames)
{
    aior_state *st = self->st;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *encoding = st->notset, *convert = Py_None;
    PyObject *fut = NULL, *rest = NULL;
    if (nargs < 1 || self->checks_commands || !PyBytes_CheckExact(args[0])) {
        goto slow;
    }
    for (Py_ssize_t i = 0; kwnames != NULL && i < PyTuple_GET_SIZE(kwnames); i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "encoding") == 0) {
            encoding = args[nargs + i];
        }
        else if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "convert") == 0) {
            convert = args[nargs + i];
        }
        else {
            goto slow;
        }
    }
    if ((encoding != st->notset && encoding != Py_None && !PyUnicode_CheckExact(encoding)) ||
        (convert != Py_None && !PyCallable_Check(convert))) {
        goto slow; /* the Python method raises the right error */
    }
    if (self->done) {
        goto slow; /* the Python method raises the AssertionError */
    }
    if (self->loop == NULL && (self->loop = PyObject_CallNoArgs(st->get_running_loop)) == NULL) {
        return NULL;
    }
    rest = PyTuple_New(nargs - 1);
    if (rest == NULL) {
        goto error;
    }
    int atomic = 1;
    for (Py_ssize_t i = 1; i < nargs; i++) {
        PyTuple_SET_ITEM(rest, i - 1, Py_NewRef(args[i]));
        atomic &= !PyObject_GC_IsTracked(args[i]);
    }
    if (atomic) {
        /* arguments are bytes, str, numbers: the tuple cannot be part of a
         * cycle, so the garbage collector need not visit it (CPython
         * untracks such tuples too, but only once a collection sees them) */
        PyObject_GC_UnTrack(rest);
    }
    PyObject *const command[4] = {args[0], rest, encoding, convert};
    fut = aior_future_new(st, self->loop, command);
    if (fut == NULL || PyList_Append(self->commands, fut) < 0) {
        goto error;
    }
    Py_DECREF(rest);
    return fut;
error:
    Py_XDECREF(fut);
    Py_XDECREF(rest);
    return NULL;
slow:
    return PyObject_Vectorcall(self->slow, args, nargsf, kwnames);
}

static PyObject *
PipelineRecorder_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *pipeline, *slow = NULL, *checks = NULL, *commands = NULL, *results = NULL;
    PipelineRecorderObject *self = NULL;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) != 0) {
        PyErr_SetString(PyExc_TypeError, "PipelineRecorder() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "PipelineRecorder", 1, 1, &pipeline)) {
        return NULL;
    }
    aior_state *st = aior_state_from_type(type);
    slow = PyObject_GetAttr(pipeline, st->str__buffer_command);
    checks = slow ? PyObject_GetAttr(pipeline, st->str__checks_commands) : NULL;
    int checks_commands = checks ? PyObject_IsTrue(checks) : -1;
    commands = checks_commands >= 0 ? get_list(pipeline, st->str__commands) : NULL;
    results = commands ? get_list(pipeline, st->str__results) : NULL;
    if (results != NULL) {
        self = (PipelineRecorderObject *)type->tp_alloc(type, 0);
    }
    if (self != NULL) {
        self->st = st;
        self->pipeline = Py_NewRef(pipeline);
        self->slow = Py_NewRef(slow);
        self->commands = Py_NewRef(commands);
        self->results = Py_NewRef(results);
        self->checks_commands = checks_commands;
        self->vectorcall = (vectorcallfunc)PipelineRecorder_vectorcall;
    }
    Py_XDECREF(slow);
    Py_XDECREF(checks);
    Py_XDECREF(commands);
    Py_XDECREF(results);
    return (PyObject *)self;
}

static int
PipelineRecorder_traverse(PipelineRecorderObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->pipeline);
    Py_VISIT(self->slow);
    Py_VISIT(self->loop);
    Py_VISIT(self->commands);
    Py_VISIT(self->results);
    return 0;
}

static int
PipelineRecorder_clear(PipelineRecorderObject *self)
{
    Py_CLEAR(self->pipeline);
    Py_CLEAR(self->slow);
    Py_CLEAR(self->loop);
    Py_CLEAR(self->commands);
    Py_CLEAR(self->results);
    return 0;
}

static void
PipelineRecorder_dealloc(PipelineRecorderObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    PipelineRecorder_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMemberDef PipelineRecorder_members[] = {
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(PipelineRecorderObject, vectorcall), Py_READONLY},
    {"__wrapped__", Py_T_OBJECT_EX, offsetof(PipelineRecorderObject, slow), Py_READONLY},
    {"done", Py_T_BOOL, offsetof(PipelineRecorderObject, done), 0},
    {NULL},
};

static PyType_Slot PipelineRecorder_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("PipelineRecorder(pipeline)\n--\n\n"
                                  "execute(command, *args, encoding=, convert=) of the "
                                  "connection stand-in inside a pipeline: records the command "
                                  "in pipeline._commands and returns its placeholder future. "
                                  "Holds the pipeline's done flag (done).")},
    {Py_tp_new, PipelineRecorder_new},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_traverse, PipelineRecorder_traverse},
    {Py_tp_clear, PipelineRecorder_clear},
    {Py_tp_dealloc, PipelineRecorder_dealloc},
    {Py_tp_members, PipelineRecorder_members},
    {0, NULL},
};

PyType_Spec aior_PipelineRecorder_spec = {
    .name = "aioredis._core.PipelineRecorder",
    .basicsize = sizeof(PipelineRecorderObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
             Py_TPFLAGS_IMMUTABLETYPE,
    .slots = PipelineRecorder_slots,
};
