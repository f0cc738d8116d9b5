package main

// FerretDB 1.24's SQLite handler filters `_id` (find, update, delete) with
// `_ferretdb_sjson->'$._id' = ?`, but declares its own `_id_` index on
// `_ferretdb_sjson->"_id"`. SQLite matches an expression index only on the same
// expression tree, so every `_id` lookup scans the table. devdb adds one index
// per collection table on exactly the expression FerretDB filters with:
//   - at start, before FerretDB opens the files, for the data already there;
//   - when FerretDB creates a collection table, from inside that call (see
//     tableHook), so no command ever sees the table without the index.
// It is a plain (non-unique) index: FerretDB's own `_id_` index keeps enforcing
// uniqueness, so errors and duplicate-key behaviour stay FerretDB's.

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // the driver FerretDB uses ("sqlite")
)

const (
	// sqliteIDExpr must stay byte-for-byte FerretDB's metadata.IDColumn.
	sqliteIDExpr = `_ferretdb_sjson->'$._id'`
	// FerretDB reserves this prefix: no collection table or FerretDB index starts with it.
	reservedPrefix = "_ferretdb_"
	// sqliteBusyTimeoutMs matches FerretDB's own busy_timeout, so devdb's DDL waits
	// for FerretDB's writers (and they for it) instead of failing with SQLITE_BUSY.
	sqliteBusyTimeoutMs = 10000
)

// sqliteIDIndexName names devdb's index for a collection table.
func sqliteIDIndexName(table string) string {
	return reservedPrefix + "devdb_id_" + table
}

// sqliteIDIndexDDL is the statement devdb runs for a collection table.
// Names are quoted with %q as FerretDB quotes them.
func sqliteIDIndexDDL(table string) string {
	return fmt.Sprintf("CREATE INDEX IF NOT EXISTS %q ON %q (%s)", sqliteIDIndexName(table), table, sqliteIDExpr)
}

// openSQLiteFile opens one database file of FerretDB's directory with the same
// busy timeout as FerretDB. It never changes the journal mode (FerretDB's files
// are already WAL) and never creates a missing file.
func openSQLiteFile(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeoutMs))
	q.Set("mode", "rw")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// ensureSQLiteIDIndex creates devdb's index on one table of one database file.
// A table dropped meanwhile is not an error.
func ensureSQLiteIDIndex(ctx context.Context, path, table string) error {
	db, err := openSQLiteFile(path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, sqliteIDIndexDDL(table))
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return nil
	}
	return err
}

// ensureSQLiteIDIndexes runs at start, before FerretDB opens the directory: every
// collection table listed in each database file's metadata gets the index
// (building it for existing data once). Returns the number of tables seen.
func ensureSQLiteIDIndexes(ctx context.Context, dir string) (int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.sqlite"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, file := range files {
		tables, err := sqliteCollectionTables(ctx, file)
		if err != nil {
			return n, fmt.Errorf("%s: %w", file, err)
		}
		for _, t := range tables {
			if err := ensureSQLiteIDIndex(ctx, file, t); err != nil {
				return n, fmt.Errorf("%s: index on %q: %w", file, t, err)
			}
			n++
		}
	}
	return n, nil
}

// sqliteCollectionTables lists the collection tables FerretDB recorded in a
// database file (none when the file has no metadata table yet).
func sqliteCollectionTables(ctx context.Context, path string) ([]string, error) {
	db, err := openSQLiteFile(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var exists int
	err = db.QueryRowContext(ctx,
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", reservedPrefix+"collections").Scan(&exists)
	if err != nil || exists == 0 {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT table_name FROM %q", reservedPrefix+"collections"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	return tables, rows.Err()
}

// parseCreateTable returns the table name of a `CREATE TABLE "name" (...` statement
// as FerretDB's registry writes it (name quoted with Go's %q), or "" for anything else.
func parseCreateTable(query string) string {
	rest, ok := strings.CutPrefix(query, "CREATE TABLE ")
	if !ok || !strings.HasPrefix(rest, `"`) {
		return ""
	}
	// the quoted name ends at the first unescaped quote
	for i := 1; i < len(rest); i++ {
		switch rest[i] {
		case '\\':
			i++
		case '"':
			name, err := strconv.Unquote(rest[:i+1])
			if err != nil {
				return ""
			}
			return name
		}
	}
	return ""
}
