/* io.h: small system-call helpers every layer may use. */
#ifndef MR_IO_H
#define MR_IO_H

#include <stddef.h>

/* write(2) until all n bytes are out, through EINTR: 0, or MR_EIO with
 * errno set. */
int mr__write_all(int fd, const void *data, size_t n);

#endif
