/* The protocol object shared by protocol.c (the FIFO, writing, reading),
 * pubsub.c (routing messages to channels) and bigreply.c (large replies
 * read straight into their bytes object). */
#ifndef AIOR_PROTOCOL_H
#define AIOR_PROTOCOL_H

#include "encoder.h"
#include "resp.h"

enum { STATE_NEW = 0, STATE_OPEN = 1, STATE_CLOSED = 2 };

enum {
    KIND_PLAIN = 0,
    KIND_SELECT,
    KIND_MULTI,
    KIND_EXEC,
    KIND_DISCARD,
    KIND_PUBSUB,     /* (P)(UN)SUBSCRIBE: routed to execute_pubsub() */
    KIND_PUBSUB_ACK, /* one acknowledgement of a (P)(UN)SUBSCRIBE */
    KIND_PUBSUB_OK,  /* a command allowed in pub/sub mode: PING, QUIT, RESET */
};

#define OUT_INITIAL_CAP 4096

typedef struct {
    PyObject *fut;
    PyObject *encoding; /* str, or NULL for raw bytes */
    PyObject *arg;      /* the db a SELECT switches to */
    PyObject *convert;  /* called with a non-error reply; its result is the result */
    int kind;
} waiter;

typedef struct {
    PyObject_HEAD
    aior_state *st;
    PyObject *loop;
    PyObject *create_future; /* loop.create_future, fetched once */
    PyObject *call_soon;     /* loop.call_soon */
    PyObject *transport;
    int sock_fd;             /* its socket, if commands may be sent on it directly (sendmsg.c) */
    PyObject *sock;          /* the transport's socket object then (its fd is checked each time) */
    Py_ssize_t direct_sends; /* commands sent that way (for tests) */
    PyObject *encoding;      /* the connection's codec: str or NULL */
    PyObject *db;
    PyObject *close_msg;     /* why the connection is closed (str) */
    resp_parser parser;
    waiter *ring;            /* FIFO of waiters, capacity a power of two */
    size_t head, count, cap;
    PyObject *out;           /* bytes being filled with encoded commands */
    size_t out_len, out_cap;
    int state;
    int in_transaction;      /* the server acknowledged a MULTI, no EXEC/DISCARD yet */
    Py_ssize_t tx_queued;    /* commands answered QUEUED in it: a reply's place in EXEC's */
    PyObject *tx_selects;    /* list of (place, db) of the SELECTs queued in it, or NULL */
    PyObject *push_handler;  /* called with RESP3 pushes no one else takes, or NULL */
    PyObject *channels;      /* pub/sub: channel name -> Channel */
    PyObject *patterns;      /* pub/sub: pattern -> Channel */
    Py_ssize_t in_pubsub;    /* subscriptions, from the last acknowledgement */
    Py_ssize_t acks_pending; /* (un)subscribe acknowledgements still to come */
    /* A large bulk reply is read straight into its bytes object (see
     * bigreply.c): the object, the bytes received, its length. */
    PyObject *big;
    size_t big_filled, big_len;
    Py_ssize_t big_exports;  /* views into big still alive */
    PyObject *big_retired;   /* list of objects such views may point into */
    int flush_scheduled;
    int corked;              /* _cork() calls not yet undone by _uncork() */
    int paused;
    int in_data_received;
} ProtocolObject;

#define READ_CHUNK 65536

/* protocol.c */
char *aior_out_reserve(ProtocolObject *self, size_t n);
waiter aior_ring_pop(ProtocolObject *self);
void aior_waiter_release(waiter *w);
void aior_resolve(ProtocolObject *self, PyObject *fut, PyObject *method, PyObject *value);
void aior_close_with(ProtocolObject *self, PyObject *exc_type, const char *message,
                     PyObject *cause);
void aior_protocol_failed(ProtocolObject *self);
/* a (P)SUBSCRIBE queued or acknowledged: only pub/sub commands may be sent */
int aior_in_pubsub_mode(const ProtocolObject *self);
void aior_on_reply(ProtocolObject *self, waiter *w, char type, PyObject *reply);

/* pubsub.c */
void aior_close_channels(ProtocolObject *self, PyObject *mapping);
void aior_on_pubsub_ack(ProtocolObject *self, PyObject *reply);
int aior_is_message(const resp_parser *p, size_t end);
int aior_route_message(ProtocolObject *self, PyObject *msg);
void aior_on_push(ProtocolObject *self, PyObject *push);

/* transport.<name>() with no arguments, the transport held across the call
 * (which may close the connection); self->transport must be set. A new
 * reference, or NULL with an exception set. */
PyObject *aior_transport_call(ProtocolObject *self, PyObject *name);
/* transport.is_closing(): 1, 0, or -1 with an exception set. */
int aior_transport_closing(ProtocolObject *self);

/* sendmsg.c, used on Python 3.11 only (3.12's socket transport sends a
 * writelines() list with one sendmsg() itself): the socket of a transport
 * commands may be written to directly (-1: none; its socket object in
 * self->sock); send a command with big arguments in one sendmsg() (1 sent,
 * 0 not possible now: nothing done, -1 error) */
#if PY_VERSION_HEX < 0x030C0000 && !defined(_WIN32)
#define AIOR_SENDMSG 1
#endif
int aior_socket_fd(ProtocolObject *self, PyObject *transport);
int aior_send_direct(ProtocolObject *self, const aior_cmd *cmd);

/* bigreply.c */
void aior_big_drop(ProtocolObject *self, PyObject *obj);
int aior_big_start(ProtocolObject *self);
int aior_big_reserve(ProtocolObject *self);
void aior_big_finish(ProtocolObject *self);
size_t aior_big_receive(ProtocolObject *self, const char *src, size_t n);

#endif
