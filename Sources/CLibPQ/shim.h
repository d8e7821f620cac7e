// libpq, PostgreSQL's C client library (Debian: libpq-dev; header in /usr/include/postgresql,
// found through pkg-config libpq).
#include <libpq-fe.h>
