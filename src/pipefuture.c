/* aioredis._core.PipelineFuture: the placeholder a pipeline's command
 * methods return.
 *
 * A pipeline creates one per buffered command, and most are never awaited
 * on their own: execute() returns all the results. An asyncio.Future costs
 * about 0.3 us to create (loop.create_future and Future.__init__ are two
 * Python calls), a third of what buffering a command costs; this one is a
 * plain allocation, and the protocol resolves it without a method call.
 *
 * It is an asyncio-compatible future (asyncio.isfuture() is true): it can
 * be awaited, gathered, waited for, shielded and cancelled, and has the
 * methods of asyncio.Future (result, exception, done, cancelled, cancel,
 * add_done_callback, remove_done_callback, get_loop, set_result,
 * set_exception). One difference: an exception nobody retrieves is not
 * logged, because a pipeline reports its failures from execute().
 *
 * It also carries its command (instead of a tuple in the pipeline's list):
 * one object per buffered command, which matters because every object the
 * garbage collector tracks makes its collections longer.
 *
 * Re-entrancy: the state is final before a done callback is scheduled
 * (loop.call_soon is Python and may run anything).
 */
#include "module.h"

#include <stddef.h>

enum { PENDING, HAS_RESULT, HAS_EXCEPTION, CANCELLED };

typedef struct {
    PyObject_HEAD
    aior_state *st;
    PyObject *loop;
    PyObject *value;      /* the result, the exception or the cancel message */
    PyObject *tb;         /* the exception's traceback when it was set (or NULL):
                           * raised with it each time, as asyncio does, so
                           * its traceback does not grow with every raise */
    PyObject *callbacks;  /* NULL or a list of (callback, context) tuples */
    PyObject *chained;    /* NULL or an asyncio future set (to None) at once when done */
    /* the buffered command (command, args tuple, encoding, convert) until
     * it is sent (even if the future was cancelled meanwhile, as before:
     * its reply is then dropped); NULL otherwise */
    PyObject *command[4];
    PyObject *weakreflist;
    unsigned char state;
    unsigned char blocking; /* _asyncio_future_blocking, for Task */
} FutureObject;

PyObject *
aior_future_new(aior_state *st, PyObject *loop, PyObject *const command[4])
{
    FutureObject *self = PyObject_GC_New(FutureObject, st->PipelineFuture_type);
    if (self == NULL) {
        return NULL;
    }
    self->st = st;
    self->loop = Py_NewRef(loop);
    self->value = NULL;
    self->tb = NULL;
    self->callbacks = NULL;
    self->chained = NULL;
    self->weakreflist = NULL;
    for (int i = 0; i < 4; i++) {
        self->command[i] = command ? Py_NewRef(command[i]) : NULL;
    }
    self->state = PENDING;
    self->blocking = 0;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

/* loop.call_soon(callback, self, context=context) */
static int
schedule(FutureObject *self, PyObject *callback, PyObject *context)
{
    PyObject *args[4] = {self->loop, callback, (PyObject *)self, context};
    PyObject *r = PyObject_VectorcallMethod(self->st->str_call_soon, args,
                                            3 | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                            self->st->context_kwnames);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

int
aior_future_take_command(aior_state *st, PyObject *fut, PyObject *command[4])
{
    if (!Py_IS_TYPE(fut, st->PipelineFuture_type) ||
        ((FutureObject *)fut)->command[0] == NULL) {
        PyErr_SetString(PyExc_TypeError, "expected a PipelineFuture holding a command");
        return -1;
    }
    FutureObject *self = (FutureObject *)fut;
    for (int i = 0; i < 4; i++) {
        command[i] = self->command[i];
        self->command[i] = NULL;
    }
    return 0;
}

/* _take_command(): (command, args, encoding, convert), moved out: the
 * Python senders (MULTI/EXEC, a connection without _execute_batch) do not
 * keep a sent command's arguments alive, as _execute_batch does not. */
static PyObject *
Future_take_command(FutureObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *command[4];
    if (aior_future_take_command(self->st, (PyObject *)self, command) < 0) {
        return NULL;
    }
    PyObject *out = PyTuple_New(4);
    for (int i = 0; i < 4; i++) {
        if (out != NULL) {
            PyTuple_SET_ITEM(out, i, command[i]); /* steals */
        }
        else {
            Py_DECREF(command[i]);
        }
    }
    return out;
}

/* chained.set_result(None) unless it is done (cancelled by its waiter).
 * Any other failure is reported as unraisable: the callbacks still run. */
static void
set_chained(FutureObject *self, PyObject *chained)
{
    PyObject *args[2] = {chained, Py_None};
    PyObject *r = PyObject_VectorcallMethod(self->st->str_set_result, args,
                                            2 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    if (r != NULL) {
        Py_DECREF(r);
    }
    else if (PyErr_ExceptionMatches(self->st->InvalidStateError)) {
        PyErr_Clear();
    }
    else {
        PyErr_WriteUnraisable(chained);
    }
}

/* Move to a final state, then wake what waits: the chained future at once,
 * the callbacks through the loop. The state is final before anything is
 * called. -1 if scheduling a callback failed (the state stays). */
static int
finish(FutureObject *self, int state, PyObject *value)
{
    self->state = (unsigned char)state;
    Py_XSETREF(self->value, Py_XNewRef(value));
    if (state == HAS_EXCEPTION && PyExceptionInstance_Check(value)) {
        Py_XSETREF(self->tb, PyException_GetTraceback(value));
    }
    PyObject *callbacks = self->callbacks, *chained = self->chained;
    self->callbacks = self->chained = NULL;
    if (chained != NULL) {
        set_chained(self, chained);
        Py_DECREF(chained);
    }
    if (callbacks == NULL) {
        return 0;
    }
    int rc = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(callbacks); i++) {
        PyObject *item = PyList_GET_ITEM(callbacks, i);
        rc = schedule(self, PyTuple_GET_ITEM(item, 0), PyTuple_GET_ITEM(item, 1));
    }
    Py_DECREF(callbacks);
    return rc;
}

int
aior_future_resolve(PyObject *fut, PyObject *value, int is_exception)
{
    FutureObject *self = (FutureObject *)fut;
    if (self->state != PENDING) {
        return 0; /* cancelled by its owner: the reply is dropped */
    }
    return finish(self, is_exception ? HAS_EXCEPTION : HAS_RESULT, value) < 0 ? -1 : 1;
}

static PyObject *
invalid_state(FutureObject *self, const char *message)
{
    PyErr_SetString(self->st->InvalidStateError, message);
    return NULL;
}

static PyObject *
make_cancelled_error(FutureObject *self)
{
    if (self->value == NULL || self->value == Py_None) {
        return PyObject_CallNoArgs(self->st->CancelledError);
    }
    return PyObject_CallOneArg(self->st->CancelledError, self->value);
}

static PyObject *
raise_cancelled(FutureObject *self)
{
    PyObject *exc = make_cancelled_error(self);
    if (exc != NULL) {
        PyErr_SetObject(self->st->CancelledError, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static PyObject *
Future_result(FutureObject *self, PyObject *Py_UNUSED(ignored))
{
    switch (self->state) {
    case HAS_RESULT:
        return Py_NewRef(self->value);
    case HAS_EXCEPTION:
        if (!PyExceptionInstance_Check(self->value) ||
            PyException_SetTraceback(self->value, self->tb ? self->tb : Py_None) == 0) {
            PyErr_SetObject((PyObject *)Py_TYPE(self->value), self->value);
        }
        return NULL;
    case CANCELLED:
        return raise_cancelled(self);
    default:
        return invalid_state(self, "Result is not ready.");
    }
}

static PyObject *
Future_exception(FutureObject *self, PyObject *Py_UNUSED(ignored))
{
    switch (self->state) {
    case HAS_RESULT:
        Py_RETURN_NONE;
    case HAS_EXCEPTION:
        return Py_NewRef(self->value);
    case CANCELLED:
        return raise_cancelled(self);
    default:
        return invalid_state(self, "Exception is not set.");
    }
}

static PyObject *
Future_done(FutureObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(self->state != PENDING);
}

static PyObject *
Future_cancelled(FutureObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(self->state == CANCELLED);
}

static PyObject *
Future_cancel(FutureObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"msg", NULL};
    PyObject *msg = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:cancel", kwlist, &msg)) {
        return NULL;
    }
    if (self->state != PENDING) {
        Py_RETURN_FALSE;
    }
    if (finish(self, CANCELLED, msg) < 0) {
        return NULL;
    }
    Py_RETURN_TRUE;
}

static PyObject *
Future_set_result(FutureObject *self, PyObject *result)
{
    if (self->state != PENDING) {
        return invalid_state(self, "invalid state");
    }
    if (finish(self, HAS_RESULT, result) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Future_set_exception(FutureObject *self, PyObject *exception)
{
    if (self->state != PENDING) {
        return invalid_state(self, "invalid state");
    }
    PyObject *exc = NULL;
    if (PyExceptionClass_Check(exception)) {
        exc = PyObject_CallNoArgs(exception);
        if (exc == NULL) {
            return NULL;
        }
    }
    else {
        exc = Py_NewRef(exception);
    }
    PyObject *out = NULL;
    if (self->state != PENDING) { /* the exception's __init__ finished us */
        invalid_state(self, "invalid state");
    }
    else if (!PyExceptionInstance_Check(exc)) {
        PyErr_SetString(PyExc_TypeError, "invalid exception object");
    }
    else if (PyErr_GivenExceptionMatches(exc, PyExc_StopIteration)) {
        PyErr_SetString(PyExc_TypeError,
                        "StopIteration interacts badly with generators and cannot be raised "
                        "into a Future");
    }
    else if (finish(self, HAS_EXCEPTION, exc) == 0) {
        out = Py_NewRef(Py_None);
    }
    Py_DECREF(exc);
    return out;
}

static PyObject *
Future_add_done_callback(FutureObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"", "context", NULL};
    PyObject *callback, *context = Py_None, *item = NULL, *out = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|$O:add_done_callback", kwlist, &callback,
                                     &context)) {
        return NULL;
    }
    context = context == Py_None ? PyContext_CopyCurrent() : Py_NewRef(context);
    if (context == NULL) {
        return NULL;
    }
    if (self->state != PENDING) {
        if (schedule(self, callback, context) == 0) {
            out = Py_NewRef(Py_None);
        }
        goto done;
    }
    if (self->callbacks == NULL && (self->callbacks = PyList_New(0)) == NULL) {
        goto done;
    }
    item = PyTuple_Pack(2, callback, context);
    if (item != NULL && PyList_Append(self->callbacks, item) == 0) {
        out = Py_NewRef(Py_None);
    }
done:
    Py_XDECREF(item);
    Py_DECREF(context);
    return out;
}

static PyObject *
Future_remove_done_callback(FutureObject *self, PyObject *callback)
{
    Py_ssize_t removed = 0;
    if (self->callbacks == NULL) {
        return PyLong_FromSsize_t(0);
    }
    PyObject *out = NULL, *callbacks = NULL, *original = Py_NewRef(self->callbacks);
    PyObject *kept = PyList_New(0);
    /* a copy: comparing can run Python code that changes the list */
    callbacks = kept ? PyList_GetSlice(original, 0, PY_SSIZE_T_MAX) : NULL;
    if (callbacks == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(callbacks); i++) {
        PyObject *item = PyList_GET_ITEM(callbacks, i);
        int same = PyObject_RichCompareBool(PyTuple_GET_ITEM(item, 0), callback, Py_EQ);
        if (same < 0 || (!same && PyList_Append(kept, item) < 0)) {
            goto done;
        }
        removed += same;
    }
    /* Comparing ran Python code. Callbacks it added to the list are kept; if
     * the future finished meanwhile (its callbacks were scheduled) or the
     * list was replaced, what is there now stays as it is. */
    if (self->callbacks == original) {
        for (Py_ssize_t i = PyList_GET_SIZE(callbacks); i < PyList_GET_SIZE(original); i++) {
            if (PyList_Append(kept, PyList_GET_ITEM(original, i)) < 0) {
                goto done;
            }
        }
        Py_SETREF(self->callbacks, Py_NewRef(kept));
    }
    out = PyLong_FromSsize_t(removed);
done:
    Py_DECREF(original);
    Py_XDECREF(callbacks);
    Py_XDECREF(kept);
    return out;
}

/* _chain(fut): set the asyncio future fut to None as soon as this one is
 * done, within the call that finishes it: a pipeline's execute() waits for
 * its last reply without a done-callback round through the loop. */
static PyObject *
Future_chain(FutureObject *self, PyObject *fut)
{
    if (self->state != PENDING) {
        set_chained(self, fut);
        Py_RETURN_NONE;
    }
    if (self->chained != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "PipelineFuture._chain(): already chained");
        return NULL;
    }
    self->chained = Py_NewRef(fut);
    Py_RETURN_NONE;
}

static PyObject *
Future_get_loop(FutureObject *self, PyObject *Py_UNUSED(ignored))
{
    return Py_NewRef(self->loop);
}

static PyObject *
Future_make_cancelled_error(FutureObject *self, PyObject *Py_UNUSED(ignored))
{
    return make_cancelled_error(self);
}

static PyObject *
Future_get_blocking(FutureObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->blocking);
}

static int
Future_set_blocking(FutureObject *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete _asyncio_future_blocking");
        return -1;
    }
    int truth = PyObject_IsTrue(value);
    if (truth < 0) {
        return -1;
    }
    self->blocking = (unsigned char)truth;
    return 0;
}

static PyObject *
Future_repr(FutureObject *self)
{
    switch (self->state) {
    case PENDING:
        return PyUnicode_FromString("<PipelineFuture pending>");
    case CANCELLED:
        return PyUnicode_FromString("<PipelineFuture cancelled>");
    default:
        break;
    }
    const char *what = self->state == HAS_RESULT ? "result" : "exception";
    PyObject *shown = PyObject_Repr(self->value);
    if (shown == NULL) {
        return NULL;
    }
    /* results can be big lists: show the start */
    if (PyUnicode_GET_LENGTH(shown) > 60) {
        PyObject *cut = PyUnicode_Substring(shown, 0, 57);
        Py_SETREF(shown, cut ? PyUnicode_FromFormat("%U...", cut) : NULL);
        Py_XDECREF(cut);
        if (shown == NULL) {
            return NULL;
        }
    }
    PyObject *out = PyUnicode_FromFormat("<PipelineFuture finished %s=%U>", what, shown);
    Py_DECREF(shown);
    return out;
}

static PyObject *Future_await(FutureObject *self);

static PyObject *
Future_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"loop", "command", "args", "encoding", "convert", NULL};
    aior_state *st = aior_state_from_type(type);
    PyObject *loop, *command[4] = {NULL, NULL, st->notset, Py_None};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|OO!OO:PipelineFuture", kwlist, &loop,
                                     &command[0], &PyTuple_Type, &command[1], &command[2],
                                     &command[3])) {
        return NULL;
    }
    if ((command[0] == NULL) != (command[1] == NULL)) {
        PyErr_SetString(PyExc_TypeError, "PipelineFuture: command and args go together");
        return NULL;
    }
    return aior_future_new(st, loop, command[0] ? command : NULL);
}

static int
Future_traverse(FutureObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->loop);
    Py_VISIT(self->value);
    Py_VISIT(self->tb);
    Py_VISIT(self->callbacks);
    Py_VISIT(self->chained);
    for (int i = 0; i < 4; i++) {
        Py_VISIT(self->command[i]);
    }
    return 0;
}

static int
Future_clear(FutureObject *self)
{
    Py_CLEAR(self->loop);
    Py_CLEAR(self->value);
    Py_CLEAR(self->tb);
    Py_CLEAR(self->callbacks);
    Py_CLEAR(self->chained);
    for (int i = 0; i < 4; i++) {
        Py_CLEAR(self->command[i]);
    }
    return 0;
}

static void
Future_dealloc(FutureObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    Future_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef Future_methods[] = {
    {"result", (PyCFunction)Future_result, METH_NOARGS, NULL},
    {"exception", (PyCFunction)Future_exception, METH_NOARGS, NULL},
    {"done", (PyCFunction)Future_done, METH_NOARGS, NULL},
    {"cancelled", (PyCFunction)Future_cancelled, METH_NOARGS, NULL},
    {"cancel", (PyCFunction)(void (*)(void))Future_cancel, METH_VARARGS | METH_KEYWORDS, NULL},
    {"set_result", (PyCFunction)Future_set_result, METH_O, NULL},
    {"set_exception", (PyCFunction)Future_set_exception, METH_O, NULL},
    {"add_done_callback", (PyCFunction)(void (*)(void))Future_add_done_callback,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"remove_done_callback", (PyCFunction)Future_remove_done_callback, METH_O, NULL},
    {"get_loop", (PyCFunction)Future_get_loop, METH_NOARGS, NULL},
    {"_make_cancelled_error", (PyCFunction)Future_make_cancelled_error, METH_NOARGS, NULL},
    {"_chain", (PyCFunction)Future_chain, METH_O, NULL},
    {"_take_command", (PyCFunction)Future_take_command, METH_NOARGS, NULL},
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, NULL},
    {NULL, NULL, 0, NULL},
};

/* A part of the buffered command (closure: its index); None once sent. */
static PyObject *
Future_get_command_part(FutureObject *self, void *closure)
{
    PyObject *part = self->command[(intptr_t)closure];
    return Py_NewRef(part ? part : Py_None);
}

static PyGetSetDef Future_getset[] = {
    {"_asyncio_future_blocking", (getter)Future_get_blocking, (setter)Future_set_blocking, NULL,
     NULL},
    {"_command", (getter)Future_get_command_part, NULL, NULL, (void *)0},
    {"_args", (getter)Future_get_command_part, NULL, NULL, (void *)1},
    {"_encoding", (getter)Future_get_command_part, NULL, NULL, (void *)2},
    {"_convert", (getter)Future_get_command_part, NULL, NULL, (void *)3},
    {NULL},
};

static PyMemberDef Future_members[] = {
    {"_loop", Py_T_OBJECT_EX, offsetof(FutureObject, loop), Py_READONLY},
    {"__weaklistoffset__", Py_T_PYSSIZET, offsetof(FutureObject, weakreflist), Py_READONLY},
    {NULL},
};

static PyType_Slot Future_slots[] = {
    {Py_tp_doc,
     (void *)PyDoc_STR("PipelineFuture(loop, command=None, args=(), encoding=NOTSET, "
                       "convert=None)\n--\n\n"
                       "The placeholder future of a command buffered in a pipeline: an "
                       "asyncio-compatible future that holds its command until it is sent.")},
    {Py_tp_new, Future_new},
    {Py_tp_traverse, Future_traverse},
    {Py_tp_clear, Future_clear},
    {Py_tp_dealloc, Future_dealloc},
    {Py_tp_repr, Future_repr},
    {Py_tp_methods, Future_methods},
    {Py_tp_getset, Future_getset},
    {Py_tp_members, Future_members},
    {Py_am_await, Future_await},
    {Py_tp_iter, Future_await},
    {0, NULL},
};

PyType_Spec aior_PipelineFuture_spec = {
    .name = "aioredis._core.PipelineFuture",
    .basicsize = sizeof(FutureObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Future_slots,
};

/* ------------------------------------------------ awaiting: the iterator
 *
 * await fut: yields the future itself to the Task (which adds its wakeup
 * as a done callback), then returns the result or raises. */

typedef struct {
    PyObject_HEAD
    FutureObject *fut;
    int yielded;
} IterObject;

static PyObject *
Future_await(FutureObject *self)
{
    PyTypeObject *tp = self->st->PipelineFutureIter_type;
    IterObject *it = PyObject_GC_New(IterObject, tp);
    if (it == NULL) {
        return NULL;
    }
    it->fut = (FutureObject *)Py_NewRef(self);
    it->yielded = 0;
    PyObject_GC_Track(it);
    return (PyObject *)it;
}

static PyObject *
Iter_next(IterObject *it)
{
    FutureObject *fut = it->fut;
    if (fut->state == PENDING) {
        if (it->yielded) {
            PyErr_SetString(PyExc_RuntimeError, "await wasn't used with future");
            return NULL;
        }
        it->yielded = 1;
        fut->blocking = 1;
        return Py_NewRef(fut);
    }
    PyObject *result = Future_result(fut, NULL);
    if (result == NULL) {
        return NULL;
    }
    if (result != Py_None) {
        /* StopIteration(result): wrapped, so a tuple or exception result
         * is returned as it is */
        PyObject *stop = PyObject_CallOneArg(PyExc_StopIteration, result);
        if (stop != NULL) {
            PyErr_SetObject(PyExc_StopIteration, stop);
            Py_DECREF(stop);
        }
    }
    Py_DECREF(result);
    return NULL;
}

static PyObject *
Iter_send(IterObject *it, PyObject *Py_UNUSED(value))
{
    return Iter_next(it);
}

static int
Iter_traverse(IterObject *it, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(it));
    Py_VISIT(it->fut);
    return 0;
}

static int
Iter_clear(IterObject *it)
{
    Py_CLEAR(it->fut);
    return 0;
}

static void
Iter_dealloc(IterObject *it)
{
    PyTypeObject *tp = Py_TYPE(it);
    PyObject_GC_UnTrack(it);
    Iter_clear(it);
    tp->tp_free((PyObject *)it);
    Py_DECREF(tp);
}

static PyMethodDef Iter_methods[] = {
    {"send", (PyCFunction)Iter_send, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Iter_slots[] = {
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, Iter_next},
    {Py_tp_traverse, Iter_traverse},
    {Py_tp_clear, Iter_clear},
    {Py_tp_dealloc, Iter_dealloc},
    {Py_tp_methods, Iter_methods},
    {0, NULL},
};

PyType_Spec aior_PipelineFutureIter_spec = {
    .name = "aioredis._core.PipelineFutureIter",
    .basicsize = sizeof(IterObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = Iter_slots,
};

/* ------------------------------------------------------- results at once */

PyObject *
aior_future_results(PyObject *module, PyObject *futures)
{
    aior_state *st = aior_state_from_module(module);
    if (!PyList_Check(futures)) {
        PyErr_SetString(PyExc_TypeError, "results_of() expects a list");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(futures);
    PyObject *out = PyList_New(n);
    if (out == NULL) {
        return NULL;
    }
    /* nothing here calls Python code: the list cannot change meanwhile */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *fut = PyList_GET_ITEM(futures, i);
        if (!Py_IS_TYPE(fut, st->PipelineFuture_type) ||
            ((FutureObject *)fut)->state != HAS_RESULT) {
            Py_DECREF(out);
            Py_RETURN_NONE; /* pending, failed, cancelled or not ours */
        }
        PyList_SET_ITEM(out, i, Py_NewRef(((FutureObject *)fut)->value));
    }
    return out;
}
