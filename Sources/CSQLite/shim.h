#include <sqlite3.h>
// SQLITE_TRANSIENT is a cast macro Swift cannot import; this constant stands in for it.
static const sqlite3_destructor_type ember_sqlite_transient = (sqlite3_destructor_type)-1;
// SQLITE_STATIC: the bound bytes stay valid until the statement is stepped (no copy).
static const sqlite3_destructor_type ember_sqlite_static = (sqlite3_destructor_type)0;
// sqlite3_config is variadic (Swift cannot call it): turn off the allocator's statistics,
// whose global mutex every allocation would take. Call before the first connection.
static inline int ember_sqlite_configure(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
// sqlite3_db_config is variadic too: leave the WAL for the next writer's checkpoint
// instead of copying it into the database file when this connection closes.
static inline int ember_sqlite_no_checkpoint_on_close(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}
