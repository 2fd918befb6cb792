//! sqlx repositories over MariaDB and SQLite, migrations, encrypted credentials, append-only audit tables.
