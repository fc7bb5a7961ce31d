// libpq's declarations only (libpq-dev). Nothing links libpq: FailbackLog loads it with dlopen
// the first time a PostgreSQL store is opened, so commands on an SQLite store never pay for it.
#include <postgresql/libpq-fe.h>
