/* aioredis._core.Reader: the sans-IO parser with hiredis.Reader's interface. */
#include "resp.h"

typedef struct {
    PyObject_HEAD
    aior_state *st;
    resp_parser parser;
    resp_build_ctx ctx;
    PyObject *protocol_error; /* class raised on a protocol error */
    PyObject *reply_error;    /* called with an error reply's text */
    PyObject *encoding;       /* str or None, kept alive for ctx */
    PyObject *errors;         /* str or None, kept alive for ctx */
    PyObject *not_enough_data;
} ReaderObject;

static int
Reader_set_codec(ReaderObject *self, PyObject *encoding, PyObject *errors)
{
    if (encoding != Py_None) {
        /* fail now on an unknown codec rather than at the first reply */
        const char *name = PyUnicode_AsUTF8(encoding);
        PyObject *codec = name ? PyCodec_Decoder(name) : NULL;
        if (codec == NULL) {
            return -1;
        }
        Py_DECREF(codec);
    }
    resp_build_ctx ctx = self->ctx;
    if (resp_ctx_set_encoding(&ctx, encoding, errors) < 0) {
        return -1;
    }
    Py_INCREF(encoding);
    Py_INCREF(errors);
    Py_XSETREF(self->encoding, encoding);
    Py_XSETREF(self->errors, errors);
    self->ctx = ctx;
    /* a reply partly built with the old codec gets the new one for all of it */
    resp_stop_building(&self->parser);
    return 0;
}

static int
Reader_init(ReaderObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"protocolError", "replyError", "encoding", "errors",
                             "notEnoughData", NULL};
    PyObject *protocol_error = Py_None, *reply_error = Py_None;
    PyObject *encoding = Py_None, *errors = Py_None, *not_enough_data = Py_False;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOOOO:Reader", kwlist, &protocol_error,
                                     &reply_error, &encoding, &errors, &not_enough_data)) {
        return -1;
    }
    if (self->parser.busy) {
        PyErr_SetString(PyExc_RuntimeError, "Reader used while it builds a reply");
        return -1;
    }
    if (protocol_error == Py_None) {
        protocol_error = self->st->ProtocolError;
    }
    if (reply_error == Py_None) {
        reply_error = self->st->ReplyError;
    }
    if (!PyCallable_Check(protocol_error) || !PyCallable_Check(reply_error)) {
        PyErr_SetString(PyExc_TypeError, "protocolError and replyError must be callable");
        return -1;
    }
    if (encoding != Py_None && !PyUnicode_Check(encoding)) {
        PyErr_SetString(PyExc_TypeError, "encoding must be a str or None");
        return -1;
    }
    if (errors != Py_None && !PyUnicode_Check(errors)) {
        PyErr_SetString(PyExc_TypeError, "errors must be a str or None");
        return -1;
    }
    if (Reader_set_codec(self, encoding, errors) < 0) {
        return -1;
    }
    Py_INCREF(protocol_error);
    Py_XSETREF(self->protocol_error, protocol_error);
    Py_INCREF(reply_error);
    Py_XSETREF(self->reply_error, reply_error);
    self->ctx.reply_error = self->reply_error;
    self->ctx.ok = self->st->ok_bytes; /* the module outlives the reader's type */
    Py_INCREF(not_enough_data);
    Py_XSETREF(self->not_enough_data, not_enough_data);
    return 0;
}

static PyObject *
Reader_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    ReaderObject *self = (ReaderObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->st = aior_state_from_type(type);
    resp_init(&self->parser);
    return (PyObject *)self;
}

static int
Reader_traverse(ReaderObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->protocol_error);
    Py_VISIT(self->reply_error);
    Py_VISIT(self->encoding);
    Py_VISIT(self->errors);
    Py_VISIT(self->not_enough_data);
    return 0;
}

static int
Reader_clear(ReaderObject *self)
{
    self->ctx.reply_error = NULL;
    Py_CLEAR(self->protocol_error);
    Py_CLEAR(self->reply_error);
    Py_CLEAR(self->not_enough_data);
    return 0;
}

static void
Reader_dealloc(ReaderObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Reader_clear(self);
    Py_CLEAR(self->encoding);
    Py_CLEAR(self->errors);
    resp_free(&self->parser);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static int
Reader_check_ready(ReaderObject *self)
{
    if (self->reply_error == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Reader is not initialised");
        return -1;
    }
    if (self->parser.busy) {
        PyErr_SetString(PyExc_RuntimeError, "Reader used while it builds a reply");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(Reader_feed__doc__,
"feed($self, data, offset=0, length=-1, /)\n--\n\n"
"Append bytes (any buffer) to the reader; offset and length select a slice.");

static PyObject *
Reader_feed(ReaderObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t offset = 0, length = -1;
    if (Reader_check_ready(self) < 0) {
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "y*|nn:feed", &view, &offset, &length)) {
        return NULL;
    }
    PyObject *result = NULL;
    if (offset < 0 || offset > view.len) {
        PyErr_SetString(PyExc_ValueError, "offset out of range");
        goto done;
    }
    if (length == -1) {
        length = view.len - offset;
    }
    if (length < 0 || length > view.len - offset) {
        PyErr_SetString(PyExc_ValueError, "length out of range");
        goto done;
    }
    if (resp_feed(&self->parser, (const char *)view.buf + offset, (size_t)length) < 0) {
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(Reader_gets__doc__,
"gets($self, /)\n--\n\n"
"Return the next reply, or notEnoughData (False) if none is complete.\n"
"Error replies are returned as replyError instances; a protocol error\n"
"raises protocolError, now and on every later call.");

static PyObject *
Reader_gets(ReaderObject *self, PyObject *Py_UNUSED(ignored))
{
    size_t end;
    PyObject *reply = NULL;
    if (Reader_check_ready(self) < 0) {
        return NULL;
    }
    if (resp_take_whole_bulk(&self->parser, &self->ctx, &reply, &end)) {
        resp_consume(&self->parser, end); /* the commonest reply, without the call */
        return reply;
    }
    int r = resp_parse(&self->parser, &self->ctx, 1, &reply, &end);
    if (r == 2) { /* the codec changed while it arrived: built now, with the new one */
        reply = resp_build(&self->parser, &self->ctx, end);
        r = 1;
    }
    if (r == 1) {
        resp_consume(&self->parser, end);
        return reply; /* or NULL: building it raised */
    }
    if (r == 0) {
        return Py_NewRef(self->not_enough_data);
    }
    if (r == -2) {
        return NULL;
    }
    PyErr_SetString(self->protocol_error, self->parser.errmsg);
    if (!PyErr_Occurred()) {
        PyErr_SetString(PyExc_RuntimeError, self->parser.errmsg);
    }
    return NULL;
}

PyDoc_STRVAR(Reader_set_encoding__doc__,
"set_encoding($self, /, encoding=None, errors=None)\n--\n\n"
"Decode string replies with this codec from now on (None: bytes).");

static PyObject *
Reader_set_encoding(ReaderObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"encoding", "errors", NULL};
    PyObject *encoding = Py_None, *errors = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OO:set_encoding", kwlist, &encoding,
                                     &errors)) {
        return NULL;
    }
    if (Reader_check_ready(self) < 0) { /* not while a codec runs inside gets() */
        return NULL;
    }
    if ((encoding != Py_None && !PyUnicode_Check(encoding)) ||
        (errors != Py_None && !PyUnicode_Check(errors))) {
        PyErr_SetString(PyExc_TypeError, "encoding and errors must be str or None");
        return NULL;
    }
    if (Reader_set_codec(self, encoding, errors) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Reader_len(ReaderObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromSize_t(resp_buffered(&self->parser));
}

static PyObject *
Reader_has_data(ReaderObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(resp_buffered(&self->parser) > 0);
}

static PyMethodDef Reader_methods[] = {
    {"feed", (PyCFunction)Reader_feed, METH_VARARGS, Reader_feed__doc__},
    {"gets", (PyCFunction)Reader_gets, METH_NOARGS, Reader_gets__doc__},
    {"set_encoding", (PyCFunction)(void (*)(void))Reader_set_encoding,
     METH_VARARGS | METH_KEYWORDS, Reader_set_encoding__doc__},
    {"len", (PyCFunction)Reader_len, METH_NOARGS,
     PyDoc_STR("len($self, /)\n--\n\nNumber of bytes buffered and not yet consumed.")},
    {"has_data", (PyCFunction)Reader_has_data, METH_NOARGS,
     PyDoc_STR("has_data($self, /)\n--\n\nWhether any unconsumed bytes are buffered.")},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(Reader__doc__,
"Reader(protocolError=None, replyError=None, encoding=None, errors=None,\n"
"       notEnoughData=False)\n--\n\n"
"Incremental RESP2/RESP3 reply parser with the interface of hiredis.Reader.");

static PyType_Slot Reader_slots[] = {
    {Py_tp_doc, (void *)Reader__doc__},
    {Py_tp_new, Reader_new},
    {Py_tp_init, Reader_init},
    {Py_tp_dealloc, Reader_dealloc},
    {Py_tp_traverse, Reader_traverse},
    {Py_tp_clear, Reader_clear},
    {Py_tp_methods, Reader_methods},
    {0, NULL},
};

PyType_Spec aior_Reader_spec = {
    .name = "aioredis._core.Reader",
    .basicsize = sizeof(ReaderObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Reader_slots,
};
