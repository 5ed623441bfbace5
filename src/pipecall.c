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
#include <structmember.h>

typedef struct {
    PyObject_HEAD
    aior_state *st;
    PyObject *pipeline;
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

/* pipeline._done: 1, 0, or -1 with an exception set. */
static int
pipeline_done(aior_state *st, PyObject *pipeline)
{
    PyObject *done = PyObject_GetAttr(pipeline, st->str__done);
    if (done == NULL) {
        return -1;
    }
    int r = PyObject_IsTrue(done);
    Py_DECREF(done);
    return r;
}

static PyObject *
PipelineCall_vectorcall(PipelineCallObject *self, PyObject *const *args, size_t nargsf,
                        PyObject *kwnames)
{
    aior_state *st = self->st;
    PyObject *commands = NULL, *result = NULL, *out = NULL;
    int is_done = pipeline_done(st, self->pipeline);
    if (is_done != 0) { /* executed already (or an error): the Python path says so */
        return is_done < 0 ? NULL
                           : PyObject_CallMethodOneArg(self->pipeline, st->str__call_done,
                                                       self->method);
    }
    commands = get_list(self->pipeline, st->str__commands);
    if (commands == NULL) {
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(commands);
    result = PyObject_Vectorcall(self->method, args, nargsf, kwnames);
    if (result == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_Exception)) {
            goto done; /* KeyboardInterrupt and the like pass through */
        }
        PyObject *exc = aior_fetch_exception();
        PyObject *size = PyLong_FromSsize_t(n);
        if (size != NULL) {
            out = PyObject_CallMethodObjArgs(self->pipeline, st->str__call_failed, size, exc,
                                             NULL);
        }
        Py_XDECREF(size);
        Py_XDECREF(exc);
        goto done;
    }
    Py_ssize_t now = PyList_GET_SIZE(commands);
    PyObject *last = now > n ? PyList_GET_ITEM(commands, now - 1) : NULL;
    if (last != NULL && last == result) {
        PyObject *results = get_list(self->pipeline, st->str__results);
        if (results == NULL || PyList_Append(results, result) < 0) {
            Py_XDECREF(results);
            goto done;
        }
        Py_DECREF(results);
        out = Py_NewRef(result);
        goto done;
    }
    out = PyObject_CallMethodOneArg(self->pipeline, st->str__call_other, result);
done:
    Py_XDECREF(result);
    Py_DECREF(commands);
    return out;
}

static PyObject *
PipelineCall_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *pipeline, *method;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) != 0) {
        PyErr_SetString(PyExc_TypeError, "PipelineCall() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "PipelineCall", 2, 2, &pipeline, &method)) {
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
    self->st = aior_state_from_type(type);
    self->pipeline = Py_NewRef(pipeline);
    self->method = Py_NewRef(method);
    self->vectorcall = (vectorcallfunc)PipelineCall_vectorcall;
    return (PyObject *)self;
}

static int
PipelineCall_traverse(PipelineCallObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->pipeline);
    Py_VISIT(self->method);
    return 0;
}

static int
PipelineCall_clear(PipelineCallObject *self)
{
    Py_CLEAR(self->pipeline);
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
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(PipelineCallObject, vectorcall), READONLY},
    {"__wrapped__", T_OBJECT, offsetof(PipelineCallObject, method), READONLY},
    {NULL},
};

static PyType_Slot PipelineCall_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("PipelineCall(pipeline, method)\n--\n\n"
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

typedef struct {
    PyObject_HEAD
    aior_state *st;
    PyObject *pipeline;
    PyObject *slow;       /* pipeline._buffer_command */
    PyObject *loop;       /* the running loop, got at the first command */
    int checks_commands;  /* pipeline._checks_commands (MultiExec) */
    vectorcallfunc vectorcall;
} PipelineRecorderObject;

static PyObject *
PipelineRecorder_vectorcall(PipelineRecorderObject *self, PyObject *const *args, size_t nargsf,
                            PyObject *kwnames)
{
    aior_state *st = self->st;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *encoding = st->notset, *convert = Py_None;
    PyObject *fut = NULL, *rest = NULL, *commands = NULL;
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
    int is_done = pipeline_done(st, self->pipeline);
    if (is_done != 0) {
        if (is_done < 0) {
            return NULL;
        }
        goto slow; /* the Python method raises the AssertionError */
    }
    if (self->loop == NULL && (self->loop = PyObject_CallNoArgs(st->get_running_loop)) == NULL) {
        return NULL;
    }
    rest = PyTuple_New(nargs - 1);
    if (rest == NULL) {
        goto error;
    }
    for (Py_ssize_t i = 1; i < nargs; i++) {
        PyTuple_SET_ITEM(rest, i - 1, Py_NewRef(args[i]));
    }
    PyObject *const command[4] = {args[0], rest, encoding, convert};
    fut = aior_future_new(st, self->loop, command);
    commands = fut ? get_list(self->pipeline, st->str__commands) : NULL;
    if (commands == NULL || PyList_Append(commands, fut) < 0) {
        goto error;
    }
    Py_DECREF(rest);
    Py_DECREF(commands);
    return fut;
error:
    Py_XDECREF(fut);
    Py_XDECREF(rest);
    Py_XDECREF(commands);
    return NULL;
slow:
    return PyObject_Vectorcall(self->slow, args, nargsf, kwnames);
}

static PyObject *
PipelineRecorder_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *pipeline;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) != 0) {
        PyErr_SetString(PyExc_TypeError, "PipelineRecorder() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "PipelineRecorder", 1, 1, &pipeline)) {
        return NULL;
    }
    aior_state *st = aior_state_from_type(type);
    PyObject *slow = PyObject_GetAttr(pipeline, st->str__buffer_command);
    if (slow == NULL) {
        return NULL;
    }
    PyObject *checks = PyObject_GetAttr(pipeline, st->str__checks_commands);
    int checks_commands = checks ? PyObject_IsTrue(checks) : -1;
    Py_XDECREF(checks);
    PipelineRecorderObject *self = NULL;
    if (checks_commands >= 0) {
        self = (PipelineRecorderObject *)type->tp_alloc(type, 0);
    }
    if (self == NULL) {
        Py_DECREF(slow);
        return NULL;
    }
    self->st = st;
    self->pipeline = Py_NewRef(pipeline);
    self->slow = slow;
    self->checks_commands = checks_commands;
    self->vectorcall = (vectorcallfunc)PipelineRecorder_vectorcall;
    return (PyObject *)self;
}

static int
PipelineRecorder_traverse(PipelineRecorderObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->pipeline);
    Py_VISIT(self->slow);
    Py_VISIT(self->loop);
    return 0;
}

static int
PipelineRecorder_clear(PipelineRecorderObject *self)
{
    Py_CLEAR(self->pipeline);
    Py_CLEAR(self->slow);
    Py_CLEAR(self->loop);
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
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(PipelineRecorderObject, vectorcall), READONLY},
    {"__wrapped__", T_OBJECT, offsetof(PipelineRecorderObject, slow), READONLY},
    {NULL},
};

static PyType_Slot PipelineRecorder_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("PipelineRecorder(pipeline)\n--\n\n"
                                  "execute(command, *args, encoding=, convert=) of the "
                                  "connection stand-in inside a pipeline: records the command "
                                  "and returns its placeholder future.")},
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
