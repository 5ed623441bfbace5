/* Command encoder: Python arguments -> a RESP array of bulk strings.
 *
 * Two passes: aior_cmd_prepare() checks every argument and computes the
 * exact encoded size (nothing is written if an argument is refused), then
 * aior_cmd_write() copies each argument once into the destination.
 */
#ifndef AIOR_ENCODER_H
#define AIOR_ENCODER_H

#include "module.h"

typedef struct {
    const char *ptr;
    Py_ssize_t len;
    PyObject *owned;  /* temporary str (big int) or NULL */
    char *heap;       /* float text from PyOS_double_to_string, or NULL */
    PyObject *bytes;  /* the argument, when it is an exact bytes object (borrowed) */
    int has_view;     /* view must be released */
    Py_buffer view;
    char num[24];     /* decimal text of a machine-size int */
} aior_arg;

#define AIOR_SMALL_ARGS 8

typedef struct {
    aior_arg *items;
    aior_arg small[AIOR_SMALL_ARGS];
    Py_ssize_t n;
    size_t size;       /* exact encoded size */
    size_t big_bytes;  /* total length of the bytes arguments of AIOR_BIG_ARG or more */
} aior_cmd;

/* A bytes argument this large is handed to the transport as it is, rather
 * than copied into the output buffer (see queue_command). */
#define AIOR_BIG_ARG (64 * 1024)

/* 0, or -1 with TypeError naming the argument's position and type. */
int aior_cmd_prepare(aior_cmd *cmd, PyObject *const *args, Py_ssize_t nargs);
/* Write exactly cmd->size bytes at dst. */
void aior_cmd_write(const aior_cmd *cmd, char *dst);
/* The pieces, for writing a command in parts: the "*N\r\n" header, and one
 * argument's "$L\r\n" header (then, if with_payload, its bytes and CRLF).
 * Each returns how many bytes it wrote. */
size_t aior_cmd_write_head(const aior_cmd *cmd, char *dst);
size_t aior_arg_write(const aior_arg *a, char *dst, int with_payload);
/* Is this argument passed to the transport by reference? */
int aior_arg_is_big(const aior_arg *a);
void aior_cmd_release(aior_cmd *cmd);

#endif
