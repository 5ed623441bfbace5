/* aioredis._core.PipelineCall: what a pipeline's command methods are.
 *
 * pipe.set(k, v) runs the Redis method, which records the command in the
 * pipeline and returns its placeholder future; the wrapper adds that future
 * to the pipeline's results. It is Pipeline._call (aioredis/commands/
 * pipeline.py) without its Python frame on the common path: anything else
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

static PyObject *
PipelineCall_vectorcall(PipelineCallObject *self, PyObject *const *args, size_t nargsf,
                        PyObject *kwnames)
{
    aior_state *st = self->st;
    PyObject *commands = NULL, *result = NULL, *out = NULL;
    PyObject *done = PyObject_GetAttr(self->pipeline, st->str__done);
    if (done == NULL) {
        return NULL;
    }
    int is_done = PyObject_IsTrue(done);
    Py_DECREF(done);
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
    if (last != NULL && PyTuple_Check(last) && PyTuple_GET_SIZE(last) > 0 &&
        PyTuple_GET_ITEM(last, 0) == result) {
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
